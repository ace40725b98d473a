// What every part of the coordinator shares: its CoreEnv and the channel to the main thread.
/// <reference lib="webworker" />
import { blobSpool, jsSha256, type CoreEnv } from '../../core/env.ts';
import type { Reply } from '../protocol.ts';

export const env: CoreEnv = { spool: () => blobSpool(4 << 20), sha256: jsSha256 };

export const post = (m: Reply, transfer: Transferable[] = []): void => (self as unknown as Worker).postMessage(m, transfer);
