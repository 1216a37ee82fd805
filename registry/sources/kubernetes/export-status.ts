import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { describeError } from '../../errors.js';
import type { Logger } from '../../log.js';

/** What the source concluded about one Service's export, to be told to its owner. */
export interface ExportState {
  namespace: string;
  name: string;
  /** A ServiceExport of this name exists (its status gets the conditions). */
  hasServiceExport: boolean;
  /** The Service exists. */
  serviceExists: boolean;
  exported: boolean;
  /** Peers and selectors it goes to; undefined: every peer. */
  to: readonly string[] | undefined;
  /** Why an export the owner asked for was not done (a bad annotation, no TCP port). */
  problem: string | undefined;
}

const MCS = { group: 'multicluster.x-k8s.io', version: 'v1alpha1', plural: 'serviceexports' };
const CONTROLLER = 'causeway.dev/gateway';

/**
 * Tells Service owners what became of their export, in the API they wrote it in (issue 11):
 * a ServiceExport gets the KEP-1645 `Valid` condition (is there an exportable Service of that
 * name?) and `causeway.dev/Exported` (to whom it goes), written through the status
 * subresource with a merge patch; a refused `causeway.dev/export` annotation becomes a
 * Warning Event on the Service. Only changes are written (one PATCH or Event per change, never
 * per resync), and a failed write is logged and tried again at the next change.
 */
export class ExportStatusWriter {
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;
  private readonly written = new Map<string, string>();
  private readonly warned = new Map<string, string>();

  constructor(kubeConfig: KubeConfig, private readonly logger: Logger) {
    this.custom = kubeConfig.makeApiClient(CustomObjectsApi);
    this.core = kubeConfig.makeApiClient(CoreV1Api);
  }

  update(state: ExportState): void {
    const key = `${state.namespace}/${state.name}`;
    if (state.hasServiceExport) void this.writeConditions(key, state);
    else this.written.delete(key);
    if (state.problem !== undefined && state.serviceExists) void this.warn(key, state);
    else this.warned.delete(key);
  }

  private async writeConditions(key: string, state: ExportState): Promise<void> {
    const valid = state.serviceExists && state.problem === undefined;
    const conditions = [
      {
        type: 'Valid', status: valid ? 'True' : 'False',
        reason: !state.serviceExists ? 'NoService' : state.problem !== undefined ? 'InvalidExport' : 'Exportable',
        message: !state.serviceExists ? `no Service ${key} to export` : state.problem ?? `Service ${key} is exported by Causeway`,
      },
      {
        type: 'causeway.dev/Exported', status: valid && state.exported ? 'True' : 'False',
        reason: valid && state.exported ? (state.to === undefined ? 'AllPeers' : 'SelectedPeers') : 'NotExported',
        message: valid && state.exported ? (state.to === undefined ? 'exported to every peer' : `exported to: ${state.to.join(', ')}`) : 'not exported',
      },
    ];
    const signature = JSON.stringify(conditions);
    if (this.written.get(key) === signature) return;
    this.written.set(key, signature);
    const now = new Date().toISOString();
    const body = { status: { conditions: conditions.map((c) => ({ ...c, lastTransitionTime: now })) } };
    try {
      await this.custom.patchNamespacedCustomObjectStatus({ ...MCS, namespace: state.namespace, name: state.name, body },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    } catch (err) {
      this.written.delete(key);
      this.logger.warn({ serviceExport: key, err: describeError(err) }, 'cannot write the ServiceExport status');
    }
  }

  private async warn(key: string, state: ExportState): Promise<void> {
    const problem = state.problem ?? '';
    if (this.warned.get(key) === problem) return;
    this.warned.set(key, problem);
    const now = new Date();
    try {
      await this.core.createNamespacedEvent({
        namespace: state.namespace,
        body: {
          metadata: { generateName: `${state.name}.causeway-`, namespace: state.namespace },
          involvedObject: { apiVersion: 'v1', kind: 'Service', name: state.name, namespace: state.namespace },
          type: 'Warning', reason: 'ExportRefused', message: `not exported: ${problem}`.slice(0, 1024),
          source: { component: CONTROLLER }, reportingComponent: CONTROLLER, reportingInstance: process.env.POD_NAME ?? 'gateway',
          firstTimestamp: now, lastTimestamp: now, count: 1,
        },
      });
    } catch (err) {
      this.warned.delete(key);
      this.logger.warn({ service: key, err: describeError(err) }, 'cannot write the export Event');
    }
  }
}
