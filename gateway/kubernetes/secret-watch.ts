import { ApiException, CoreV1Api, Watch, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { describeError, silentLogger, type Logger } from '../../registry/index.js';
import { apiRefusal, withDeadline } from './kube-client-config.js';

export interface SecretWatchOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  name: string;
  /** The Secret as the API server holds it: after every GET and on every ADDED or MODIFIED event (calls are serialised). */
  onSecret: (secret: V1Secret) => Promise<void> | void;
  /** The Secret was deleted (DELETED event), or a GET found none. */
  onAbsent: (how: 'deleted' | 'not found') => void;
  logger?: Logger;
  /** First retry after a failed GET or watch; doubles up to maxBackoffMs. Default 1 s → 30 s (client-node's informers). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** timeoutSeconds of each watch request: the server ends it then and it is made again. Default 300 s. */
  watchTimeoutSeconds?: number;
  /** Deadline of each GET. Default 10 s. */
  requestTimeoutMs?: number;
}

export interface SecretWatchStatus {
  /** "Secret <namespace>/<name>". */
  secret: string;
  /** starting: the first GET is under way; watching: a watch is open; retrying: waiting out a backoff after `lastError`. */
  state: 'starting' | 'watching' | 'retrying' | 'closed';
  /** Whether the Secret exists, as last seen; undefined before the first answer. */
  exists: boolean | undefined;
  /** The resourceVersion the next watch starts from ('' = from the current state). */
  resourceVersion: string;
  /** GETs and watch requests made so far. */
  gets: number;
  watches: number;
  lastError?: string;
  lastErrorAt?: string;
}

/** A watch that ended: normally (timeoutSeconds, a server restart), or because its resourceVersion is gone (410). */
type WatchEnd = 'ended' | 'expired';

/**
 * Follows one Secret through the API server with no more than `get` and `watch` on it by name
 * (RBAC resourceNames): a GET, then a watch of the namespace's secrets with the field selector
 * metadata.name=<name> — the only watch a resourceNames grant authorizes — from the GET's
 * resourceVersion. A watch that ends is made again from the last resourceVersion seen (events
 * and bookmarks carry it); a failed GET or watch is retried with capped exponential backoff.
 * On 410 Gone (an HTTP status, or an in-stream ERROR: the position was compacted away) the
 * Secret is read again and the next watch starts with no resourceVersion, which begins with
 * the current object as an ADDED event: an object's own resourceVersion is that of its last
 * write, which for a Secret untouched for days is far older than the watch window (etcd
 * compacts every 5 minutes), so watching from it again would only meet 410 again.
 * https://kubernetes.io/docs/reference/using-api/api-concepts/#semantics-for-watch
 */
export class SecretWatch {
  private readonly logger: Logger;
  private readonly where: string;
  private readonly api: CoreV1Api;
  private readonly tuning: Required<Pick<SecretWatchOptions, 'minBackoffMs' | 'maxBackoffMs' | 'watchTimeoutSeconds' | 'requestTimeoutMs'>>;
  private readonly statusValue: SecretWatchStatus;
  private running: Promise<void> | undefined;
  private controller: AbortController | undefined;
  private sleeping: { timer: NodeJS.Timeout; wake: () => void } | undefined;
  private deliveries: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: SecretWatchOptions) {
    this.where = `Secret ${options.namespace}/${options.name}`;
    this.logger = (options.logger ?? silentLogger()).child({ component: 'secret-watch', secret: `${options.namespace}/${options.name}` });
    this.api = options.kubeConfig.makeApiClient(CoreV1Api);
    this.tuning = {
      minBackoffMs: options.minBackoffMs ?? 1000, maxBackoffMs: options.maxBackoffMs ?? 30_000,
      watchTimeoutSeconds: options.watchTimeoutSeconds ?? 300, requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
    };
    this.statusValue = { secret: this.where, state: 'starting', exists: undefined, resourceVersion: '', gets: 0, watches: 0 };
  }

  /** Starts following the Secret; never throws (problems show in status() and the log). */
  start(): void {
    this.running ??= this.run();
  }

  status(): SecretWatchStatus {
    return { ...this.statusValue };
  }

  /** Ends the watch and waits for a delivery under way. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    this.statusValue.state = 'closed';
    this.controller?.abort();
    if (this.sleeping !== undefined) {
      clearTimeout(this.sleeping.timer);
      this.sleeping.wake();
    }
    await this.running;
    await this.deliveries;
  }

  private async run(): Promise<void> {
    // 'expired': after a 410 the Secret is read again but watched from the current state.
    let read: 'first' | 'expired' | undefined = 'first';
    let failures = 0;
    while (!this.closed) {
      try {
        if (read !== undefined) await this.get(read === 'first');
        read = undefined;
        const startedAt = Date.now();
        const end = await this.watchOnce();
        if (this.closed) break;
        if (end === 'expired') {
          this.logger.info({ resourceVersion: this.statusValue.resourceVersion }, 'watch position expired (410); reading the Secret again');
          read = 'expired';
        }
        // A server that ends every watch at once must not be asked again in a tight loop.
        failures = Date.now() - startedAt < 1000 ? failures + 1 : 0;
        if (failures > 0 && end !== 'expired') await this.sleep(this.backoff(failures));
      } catch (err) {
        if (this.closed) break;
        failures += 1;
        const reason = describeError(err);
        if (reason !== this.statusValue.lastError) this.logger.warn({ reason, retryInMs: this.backoff(failures) }, 'cannot follow the Secret; retrying');
        this.statusValue.lastError = reason;
        this.statusValue.lastErrorAt = new Date().toISOString();
        this.statusValue.state = 'retrying';
        await this.sleep(this.backoff(failures));
      }
    }
  }

  private backoff(failures: number): number {
    return Math.min(this.tuning.maxBackoffMs, this.tuning.minBackoffMs * 2 ** Math.max(0, failures - 1));
  }

  /** Reads the Secret; the next watch starts from its resourceVersion only when `resume` (see the class comment). */
  private async get(resume: boolean): Promise<void> {
    this.statusValue.gets += 1;
    let secret: V1Secret;
    try {
      secret = await withDeadline(this.api.readNamespacedSecret({ name: this.options.name, namespace: this.options.namespace }), this.tuning.requestTimeoutMs, `GET ${this.where}`);
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) {
        this.statusValue.exists = false;
        // No resourceVersion to start from: the watch begins with the current state, so a
        // Secret created meanwhile arrives as ADDED.
        this.statusValue.resourceVersion = '';
        this.deliver(() => this.options.onAbsent('not found'));
        return;
      }
      throw new Error(`GET ${this.where}: ${err instanceof ApiException ? apiRefusal(err.code, 'get', 'this Secret') : describeError(err)}`, { cause: err });
    }
    this.statusValue.exists = true;
    this.statusValue.resourceVersion = resume ? secret.metadata?.resourceVersion ?? '' : '';
    this.deliver(() => this.options.onSecret(secret));
  }

  /** One watch request, until it ends; rejects on a failure other than 410. */
  private watchOnce(): Promise<WatchEnd> {
    const { namespace, name } = this.options;
    const resourceVersion = this.statusValue.resourceVersion;
    const query: Record<string, string | number | boolean> = {
      fieldSelector: `metadata.name=${name}`, allowWatchBookmarks: true, timeoutSeconds: this.tuning.watchTimeoutSeconds,
      ...(resourceVersion === '' ? {} : { resourceVersion }),
    };
    this.statusValue.watches += 1;
    return new Promise<WatchEnd>((resolve, reject) => {
      let expired = false;
      let settled = false;
      // The server ends the watch after timeoutSeconds; a connection that silently died would not.
      const guard = setTimeout(() => this.controller?.abort(), (this.tuning.watchTimeoutSeconds + 30) * 1000);
      guard.unref();
      const finish = (err: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(guard);
        this.controller = undefined;
        const code = (err as { statusCode?: number } | null)?.statusCode;
        if (expired || code === 410) resolve('expired');
        else if (err === null || err === undefined || this.closed) resolve('ended');
        else reject(new Error(`watch ${this.where}: ${code === undefined ? describeError(err) : apiRefusal(code, 'watch', 'this Secret')}`, { cause: err }));
      };
      const onEvent = (type: string, object: V1Secret & { code?: number; message?: string }): void => {
        if (type === 'ERROR') {
          // The server ends the response after an ERROR; the watch is made again.
          if (object.code === 410) expired = true;
          else this.logger.warn({ code: object.code, reason: object.message }, 'the watch ended with an ERROR event');
          return;
        }
        this.statusValue.resourceVersion = object.metadata?.resourceVersion ?? this.statusValue.resourceVersion;
        if (type === 'BOOKMARK' || object.metadata?.name !== name) return;
        if (type === 'ADDED' || type === 'MODIFIED') {
          this.statusValue.exists = true;
          this.deliver(() => this.options.onSecret(object));
        } else if (type === 'DELETED') {
          this.statusValue.exists = false;
          this.deliver(() => this.options.onAbsent('deleted'));
        }
      };
      new Watch(this.options.kubeConfig).watch(`/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`, query, onEvent, finish).then((controller) => {
        if (settled) return;
        this.controller = controller;
        if (this.closed) return controller.abort();
        this.statusValue.state = 'watching';
        delete this.statusValue.lastError;
        delete this.statusValue.lastErrorAt;
      }, finish);
    });
  }

  /** Runs the handlers one at a time, in the order the API server sent the changes. */
  private deliver(work: () => Promise<void> | void): void {
    this.deliveries = this.deliveries.then(work).catch((err: unknown) => {
      this.logger.error({ reason: describeError(err) }, 'a Secret change handler failed');
    });
  }

  private sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleeping = undefined;
        resolve();
      }, ms);
      timer.unref();
      this.sleeping = { timer, wake: resolve };
    });
  }
}
