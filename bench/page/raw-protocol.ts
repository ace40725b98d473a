// Messages of the raw-throughput worker (bench only).
/** `tar`: the output also goes through the app's tar reader (headers parsed, data skipped), as a decode does */
export interface RawJob { files: File[]; inflate: boolean; tar?: boolean }
export interface RawResult { name: string; bytesIn: number; bytesOut: number; ms: number }
