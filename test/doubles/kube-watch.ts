// Watches of the Kubernetes API server double, as kube-apiserver serves them
// (https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes):
// a chunked 200 response of newline-delimited JSON events `{"type":..., "object":...}`.
//  - `resourceVersion=N`: every change after N ("Start at Exact"); N older than the history is 410 Gone —
//    answered as an HTTP 410 Status, or (option `expiredWatch: 'event'`, what the watch cache does) a 200
//    whose only event is an ERROR carrying that Status (#410-gone-responses).
//    An N newer than the current revision is accepted and waits for it (etcd's watch semantics; the
//    watch cache of a real server may instead answer 504 "Too large resource version" after ~3 s).
//  - resourceVersion unset or "0": synthetic ADDED events for the current objects, then the changes
//    ("Get State and Start at Most Recent" / "Start at Any", #semantics-for-watch).
//  - `sendInitialEvents=true` (needs allowWatchBookmarks and resourceVersionMatch=NotOlderThan): the same
//    synthetic ADDEDs, then a BOOKMARK annotated `k8s.io/initial-events-end: "true"` (#streaming-lists).
//  - BOOKMARK events only with `allowWatchBookmarks=true`, carrying just kind, apiVersion and
//    metadata.resourceVersion (the current revision), every `bookmarkIntervalMs` and on demand (#watch-bookmarks).
//  - With a label or field selector, an object that starts matching arrives as ADDED and one that stops
//    matching as DELETED (its previous state at the new revision), as the cacher does.
//  - The server ends a watch after `timeoutSeconds`, or without it after a random time in
//    [minRequestTimeout, 2 x minRequestTimeout) (kube-apiserver's --min-request-timeout, 1800 s);
//    the client reconnects from the last resourceVersion it saw.
// An in-stream ERROR (compaction passing an open watch) is followed by the end of the response.
import type { ServerResponse } from 'node:http';
import type { KubeRequestRecord } from './kube-api-server.js';
import type { KubeResource, ResourceType } from './kube-resources.js';
import { matchesFields, matchesLabels, type FieldRequirement, type LabelSelector } from './kube-selectors.js';
import { statusErrors, type KubeStatusError } from './kube-status.js';
import { fullJson, type ChangeEvent, type KubeStore, type StoredObject } from './kube-store.js';

export interface WatchRequest {
  rt: ResourceType;
  namespace: string | undefined;
  label: LabelSelector;
  field: readonly FieldRequirement[];
  /** undefined: unset or "0" (start with the current state). */
  resourceVersion: number | undefined;
  bookmarks: boolean;
  sendInitialEvents: boolean;
  timeoutSeconds: number | undefined;
}

export interface WatchHubOptions {
  bookmarkIntervalMs: number;
  minRequestTimeoutSeconds: number;
  expiredWatch: 'status' | 'event';
}

class Watcher {
  private ended = false;
  readonly timer: NodeJS.Timeout;

  constructor(readonly req: WatchRequest, readonly res: ServerResponse, readonly record: KubeRequestRecord, timeoutMs: number, onTimeout: () => void) {
    this.timer = setTimeout(onTimeout, timeoutMs);
    this.timer.unref();
  }

  send(line: string, type: string): void {
    if (this.ended) return;
    this.res.write(`${line}\n`);
    this.count(type);
  }

  /** The backlog of a new watch in one chunk. */
  sendAll(lines: ReadonlyArray<readonly [string, string]>): void {
    if (this.ended || lines.length === 0) return;
    this.res.write(lines.map(([line]) => `${line}\n`).join(''));
    for (const [, type] of lines) this.count(type);
  }

  private count(type: string): void {
    this.record.events++;
    if (type === 'BOOKMARK') this.record.bookmarks++;
  }

  /** Ends the response: gracefully (the chunked terminator, as a timeout does) or by destroying the connection. */
  end(abrupt: boolean): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.timer);
    if (abrupt) this.res.destroy();
    else this.res.end();
  }
}

const eventLine = (type: string, objectJson: string): string => `{"type":"${type}","object":${objectJson}}`;

const selective = (req: WatchRequest): boolean => req.label.length > 0 || req.field.length > 0;

function matches(req: WatchRequest, s: StoredObject): boolean {
  return matchesLabels(req.label, s.obj.metadata.labels) && matchesFields(req.field, (f) => s.rt.fields.get(f)?.(s.obj) ?? '');
}

export class WatchHub {
  private readonly watchers = new Map<KubeResource, Set<Watcher>>();
  /** Serialized event lines, shared by every watcher that gets the event unchanged. */
  private readonly lines = new WeakMap<ChangeEvent, string>();
  private bookmarkTimer: NodeJS.Timeout | undefined;

  constructor(private readonly store: KubeStore, private readonly options: WatchHubOptions) {}

  /** Starts a watch on `res` (the headers go at once, so the client's request resolves before any event). */
  serve(req: WatchRequest, res: ServerResponse, record: KubeRequestRecord): void {
    const backlog: Array<readonly [string, string]> = [];
    if (req.resourceVersion === undefined) {
      for (const s of this.store.all(req.rt, req.namespace)) {
        if (!selective(req) || matches(req, s)) {
          backlog.push([eventLine('ADDED', fullJson(s)), 'ADDED']);
        }
      }
      if (req.sendInitialEvents) {
        backlog.push([this.bookmarkLine(req.rt, { 'k8s.io/initial-events-end': 'true' }), 'BOOKMARK']);
      }
    } else {
      let events: ChangeEvent[];
      try {
        events = this.store.eventsAfter(req.resourceVersion);
      } catch (err) {
        if (this.options.expiredWatch === 'status') throw err;
        this.startStream(res, record);
        res.end(`${eventLine('ERROR', JSON.stringify((err as KubeStatusError).toStatus()))}\n`);
        record.events++;
        return;
      }
      for (const ev of events) {
        if (ev.cur.rt !== req.rt) continue;
        const line = this.lineFor(req, ev);
        if (line !== undefined) backlog.push([line, ev.type]);
      }
    }
    this.startStream(res, record);
    const timeoutMs = req.timeoutSeconds !== undefined
      ? req.timeoutSeconds * 1000
      : this.options.minRequestTimeoutSeconds * 1000 * (1 + Math.random());
    const watcher = new Watcher(req, res, record, timeoutMs, () => watcher.end(false));
    let set = this.watchers.get(req.rt.resource);
    if (set === undefined) {
      set = new Set();
      this.watchers.set(req.rt.resource, set);
    }
    set.add(watcher);
    res.on('close', () => {
      clearTimeout(watcher.timer);
      this.watchers.get(req.rt.resource)?.delete(watcher);
      record.endedAt = Date.now();
    });
    watcher.sendAll(backlog);
    this.armBookmarks();
  }

  /** Delivers one committed change to the watches of its kind. */
  publish(ev: ChangeEvent): void {
    const set = this.watchers.get(ev.cur.rt.resource);
    if (set === undefined || set.size === 0) return;
    for (const w of set) {
      const line = this.lineFor(w.req, ev);
      if (line !== undefined) w.send(line, ev.type);
    }
  }

  /** Sends a BOOKMARK now to every watch that allowed them (of one kind, or all); returns how many got one. */
  bookmark(resource?: KubeResource): number {
    let n = 0;
    for (const [kind, set] of this.watchers) {
      if (resource !== undefined && kind !== resource) continue;
      for (const w of set) {
        if (!w.req.bookmarks) continue;
        w.send(this.bookmarkLine(w.req.rt), 'BOOKMARK');
        n++;
      }
    }
    return n;
  }

  /** Ends every open watch (of one kind, or all); returns how many. */
  drop(abrupt: boolean, resource?: KubeResource): number {
    let n = 0;
    for (const w of this.watching(resource)) {
      w.end(abrupt);
      n++;
    }
    return n;
  }

  /** Sends every open watch an ERROR event with a 410 Expired Status and ends it (the history no longer covers it). */
  expire(): number {
    const status = statusErrors.expired('The resourceVersion for the provided watch is too old.').toStatus();
    const line = eventLine('ERROR', JSON.stringify(status));
    let n = 0;
    for (const w of this.watching()) {
      w.send(line, 'ERROR');
      w.end(false);
      n++;
    }
    return n;
  }

  count(resource?: KubeResource): number {
    return this.watching(resource).length;
  }

  close(): void {
    clearInterval(this.bookmarkTimer);
    this.bookmarkTimer = undefined;
    this.drop(true);
  }

  private watching(resource?: KubeResource): Watcher[] {
    const out: Watcher[] = [];
    for (const [kind, set] of this.watchers) if (resource === undefined || kind === resource) out.push(...set);
    return out;
  }

  private startStream(res: ServerResponse, record: KubeRequestRecord): void {
    record.status = 200;
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
  }

  private armBookmarks(): void {
    if (this.bookmarkTimer !== undefined || this.options.bookmarkIntervalMs <= 0) return;
    this.bookmarkTimer = setInterval(() => this.bookmark(), this.options.bookmarkIntervalMs);
    this.bookmarkTimer.unref();
  }

  private bookmarkLine(rt: ResourceType, annotations?: Record<string, string>): string {
    const metadata = { resourceVersion: String(this.store.revision), ...(annotations === undefined ? {} : { annotations }) };
    return eventLine('BOOKMARK', JSON.stringify({ kind: rt.kind, apiVersion: rt.apiVersion, metadata }));
  }

  /** The event as a watch with these parameters sees it, or undefined when it is not its to see. */
  private lineFor(req: WatchRequest, ev: ChangeEvent): string | undefined {
    if (req.namespace !== undefined && req.rt.namespaced && ev.cur.namespace !== req.namespace) return undefined;
    if (req.resourceVersion !== undefined && ev.rv <= req.resourceVersion) return undefined;
    if (!selective(req)) return this.shared(ev);
    const now = matches(req, ev.cur);
    const before = ev.prev !== undefined && matches(req, ev.prev);
    if (ev.type === 'ADDED' || ev.type === 'DELETED') return now ? this.shared(ev) : undefined;
    if (now && before) return this.shared(ev);
    if (now) return eventLine('ADDED', fullJson(ev.cur));
    if (before && ev.prev !== undefined) {
      const last = JSON.parse(ev.prev.body) as StoredObject['obj'];
      last.metadata.resourceVersion = String(ev.rv);
      return eventLine('DELETED', fullJson({ ...ev.prev, obj: last, body: JSON.stringify(last) }));
    }
    return undefined;
  }

  private shared(ev: ChangeEvent): string {
    let line = this.lines.get(ev);
    if (line === undefined) {
      line = eventLine(ev.type, fullJson(ev.cur));
      this.lines.set(ev, line);
    }
    return line;
  }
}
