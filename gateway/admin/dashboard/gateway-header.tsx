import type { GatewayStatus } from './feed-types';
import { formatTime } from './format';
import type { ConnectionState } from './live-connection';

const CONNECTION_LOOK: Record<ConnectionState, string> = { live: 'connected', connecting: 'stale', disconnected: 'disconnected' };

/** Who this gateway is, whether it is ready, the policy set in force, and whether the page is live. */
export function GatewayHeader({ status, connection, asOf }: { status: GatewayStatus | undefined; connection: ConnectionState; asOf: string | undefined }) {
  return (
    <header class="top">
      <h1>Causeway <span class="cluster">{status?.cluster ?? '…'}</span></h1>
      {status === undefined ? null : (
        <dl class="identity">
          <div><dt>Gateway</dt><dd>{status.gateway.name}</dd></div>
          <div><dt>Identity</dt><dd><code data-testid="gateway-identity">{status.gateway.identity}</code></dd></div>
          <div><dt>Trust domain</dt><dd>{status.trustDomain}</dd></div>
          <div>
            <dt>Readiness</dt>
            <dd><span data-testid="readiness" class={`badge badge-${status.gateway.ready ? 'connected' : 'disconnected'}`}>{status.gateway.ready ? 'ready' : 'not ready'}</span></dd>
          </div>
          <div><dt>Policy version</dt><dd data-testid="policy-version">{status.policies.version}</dd></div>
        </dl>
      )}
      <p class="connection" role="status">
        <span data-testid="connection-state" class={`badge badge-${CONNECTION_LOOK[connection]}`}>{connection}</span>
        {asOf === undefined ? null : <span class="note"> as of {formatTime(asOf)}</span>}
      </p>
    </header>
  );
}
