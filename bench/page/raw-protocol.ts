// Messages of the raw-throughput worker (bench only).
export interface RawJob { files: File[]; inflate: boolean }
export interface RawResult { name: string; bytesIn: number; bytesOut: number; ms: number }
