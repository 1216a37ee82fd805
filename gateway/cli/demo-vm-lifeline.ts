/**
 * Preloaded (`node --import`) into the demo's agent process: once the demo is gone, however
 * it went (`kill -9` included), the agent is told SIGTERM, deregisters and exits. The demo's
 * gateways get the same from their IPC channel closing (gateway-command.ts); spawnAgent opens
 * no such channel, so the agent watches its parent instead (CAUSEWAY_DEMO_PID names it).
 */
import { watchParent } from './parent-watch.js';

const parent = Number(process.env.CAUSEWAY_DEMO_PID);
watchParent(() => process.kill(process.pid, 'SIGTERM'));
// Started after its parent died (re-parented already): watchParent saw no change to wait for.
if (Number.isInteger(parent) && parent > 0 && process.ppid !== parent) process.kill(process.pid, 'SIGTERM');
