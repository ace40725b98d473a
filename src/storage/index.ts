// The storage layer: the only code that touches IndexedDB. Runs in the page and in workers.
//
// Import flow: beginImage(meta) -> id; createContentWriter / storeLayerBlob per layer (a compressed
// layer may be stored `packed`, as shipped); putCaptured (files the analysis reads early); putTree; updateImageMeta once decoding has filled in
// layer sizes and counts; commitImage. Any failure removes the partial image; abortImage on
// cancel; cleanupOrphans at start-up. After the commit, beginExpansion turns each packed layer
// into its decompressed content (readers wait for it).
export { CHUNK_SIZE, type ContentWriter, createContentWriter, storeLayerBlob } from './content-writer.ts';
export { layerContentBlob, packedLayerBlob, readRange } from './content-reader.ts';
export { beginExpansion, type Expansion, expansionError } from './expansion.ts';
export { beginImage, commitImage, listImages, openImage, readRecord, setVerify, updateImageMeta, type StoredImage } from './images.ts';
export { holdAnalysisLock, holdExpansionLock } from './locks.ts';
export { putTree } from './tree-store.ts';
export { abortImage, type CleanupReport, cleanupOrphans, deleteImage } from './removal.ts';
export { requestPersistence, storageEstimate, type StorageInfo } from './quota.ts';
export { ANALYSIS_FORMAT, putAnalysis, putCaptured, readAnalysis, readCaptured, type StoredAnalysis } from './analysis-store.ts';
