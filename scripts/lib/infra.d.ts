export interface RunningServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}
export function freePort(): Promise<number>;
export function waitForPort(port: number, timeoutMs: number): Promise<void>;
export function startNatsServer(options?: {
  port?: number;
  storeDir?: string;
  configFile?: string;
  env?: Record<string, string>;
}): Promise<RunningServer & { pid: number }>;
export function startEmbeddedPostgres(options?: {
  port?: number;
  dataDir?: string;
  password?: string;
}): Promise<RunningServer>;
export function spawnEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
}): Promise<RunningServer>;
export function withDatabase(url: string, database: string): string;
export const NATS_INSTALL_HINT: string;
