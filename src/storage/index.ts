// The storage layer: the only code that touches IndexedDB. Runs in the page and in workers.
//
// Import flow: beginImage(meta) -> id; createContentWriter / storeLayerBlob per layer; putTree;
// updateImageMeta once decoding has filled in layer sizes and counts; commitImage. Any failure
// removes the partial image; abortImage on cancel; cleanupOrphans at start-up.
export { CHUNK_SIZE, type ContentWriter, createContentWriter, storeLayerBlob } from './content-writer.ts';
export { layerContentBlob, readRange } from './content-reader.ts';
export { beginImage, commitImage, listImages, openImage, setVerify, updateImageMeta, type StoredImage } from './images.ts';
export { putTree } from './tree-store.ts';
export { abortImage, type CleanupReport, cleanupOrphans, deleteImage } from './removal.ts';
export { requestPersistence, storageEstimate, type StorageInfo } from './quota.ts';
