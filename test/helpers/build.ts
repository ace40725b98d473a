// Test fixtures are built in code with the same writer as the sample image.
export * from '../../scripts/image-writer.ts';
