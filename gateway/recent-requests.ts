import type { RequestRecord } from './dataplane/outbound-proxy.js';

/** A fixed-size ring of the latest outbound requests, for the status API and the demo. */
export class RecentRequests {
  private readonly items: RequestRecord[] = [];
  constructor(private readonly capacity: number) {}

  add(record: RequestRecord): void {
    this.items.push(record);
    if (this.items.length > this.capacity) this.items.shift();
  }

  list(): readonly RequestRecord[] {
    return this.items;
  }
}
