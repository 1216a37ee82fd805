// Public surface of gateway/: the gateway process, its config, and the CLI's process helpers.
export { Gateway, type GatewayListeners, type GatewayOptions } from './gateway.js';
export { loadConfig, parseConfigText } from './config/load-config.js';
export { validateConfig, parseDuration } from './config/validate-config.js';
export type { GatewayConfig } from './config/gateway-config.js';
export { parseHostPort, formatHostPort } from './config/address.js';
export { spawnGateway, CLI_ENTRY, type GatewayProcess, type SpawnOptions } from './cli/gateway-process.js';
export { spawnAgent, type AgentProcess } from './cli/agent-process.js';
export { proxyGet, type ProxyResponse } from './cli/proxy-get.js';
export { startEchoBackend } from './cli/echo-backend.js';
export { main as runCli } from './cli/cli.js';
export { writeDemoConfigs } from './cli/demo-setup.js';
