/**
 * The telemetry seam (design brief: "Telemetry is published as events; metrics, logs and the
 * dashboard subscribe"). A component is handed an EventSink for the events it knows of and
 * publishes facts — a request finished, a delta was applied — never metrics; subscribers
 * (gateway/telemetry/) turn them into counters, access-log lines and live traffic.
 *
 * One bus per gateway rather than process-wide `node:diagnostics_channel` channels: tests and
 * the demo run several gateways in one process, and each one's metrics must be its own.
 */
export interface EventSink<E> {
  publish(event: E): void;
}

/** Drops every event: the default of a component built without a sink. */
export const NO_EVENTS: EventSink<never> = { publish: () => undefined };

/**
 * Delivers each event synchronously to every subscriber, in subscription order. A subscriber
 * that throws is reported to `onError` and never stops delivery to the others, nor reaches
 * the publisher: telemetry must not break the data plane.
 */
export class EventBus<E> implements EventSink<E> {
  private readonly subscribers = new Set<(event: E) => void>();

  constructor(private readonly onError: (err: unknown) => void = () => undefined) {}

  publish(event: E): void {
    for (const subscriber of this.subscribers) {
      try {
        subscriber(event);
      } catch (err) {
        this.onError(err);
      }
    }
  }

  /** Returns the unsubscribe function. */
  subscribe(subscriber: (event: E) => void): () => void {
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  get size(): number {
    return this.subscribers.size;
  }
}
