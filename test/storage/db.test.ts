import 'fake-indexeddb/auto';
import { keys } from 'idb-keyval';
import { beforeEach, expect, test } from 'vitest';
import { StrataError } from '../../src/core/errors.ts';
import { inStore, isQuotaError, storageError, stores } from '../../src/storage/db.ts';
import { clearAll } from './idb-helpers.ts';

beforeEach(clearAll);

test('a batch whose body throws is rolled back whole (put 1 and 2 are not kept)', async () => {
  const err = await inStore(stores.trees, 'readwrite', 'Writing a batch', (os) => {
    os.put('one', 'a');
    os.put('two', 'b');
    throw new DOMException('could not clone', 'DataCloneError');
  }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(StrataError);
  expect(err).toMatchObject({ code: 'STORAGE', message: 'Writing a batch: could not clone.' });
  expect(await keys(stores.trees)).toEqual([]);
});

test('a StrataError thrown by a body passes through unchanged', async () => {
  const mine = new StrataError('NOT_FOUND', 'No such thing.');
  await expect(inStore(stores.trees, 'readonly', 'Reading', () => { throw mine; })).rejects.toBe(mine);
});

test.each([
  { err: new DOMException('full', 'QuotaExceededError'), quota: true },
  { err: { name: 'NS_ERROR_DOM_QUOTA_REACHED' }, quota: true },
  { err: { name: 'Error', code: 22 }, quota: true },
  { err: new DOMException('gone', 'UnknownError'), quota: false },
  { err: null, quota: false },
])('isQuotaError($err.name) = $quota; storageError maps it', ({ err, quota }) => {
  expect(isQuotaError(err)).toBe(quota);
  expect(storageError(err, 'Doing X').code).toBe(quota ? 'QUOTA_EXCEEDED' : 'STORAGE');
  expect(storageError(err, 'Doing X').message).toMatch(/^Doing X: /);
});

test('Chromium\'s "Failed to write blobs" gets a hint on what to do', () => {
  const e = storageError(new DOMException('Failed to write blobs (InvalidBlob)', 'DataError'), 'Storing layer 0');
  expect(e).toMatchObject({ code: 'STORAGE', message: 'Storing layer 0: Failed to write blobs (InvalidBlob). The browser could not read the data to store; reload the page and import again.' });
});
