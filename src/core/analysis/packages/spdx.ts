// Whether a string is a licence id or exception id on the SPDX list (the list ships with
// spdx-expression-parse, so the core carries no copy of its own).
// @ts-ignore -- the package has no type declarations; another module may add some, hence not @ts-expect-error
import parseExpression from 'spdx-expression-parse';

const parse = parseExpression as (source: string) => { license?: string; exception?: string };
const ids = new Map<string, boolean>();
const exceptions = new Map<string, boolean>();

function cached(cache: Map<string, boolean>, key: string, test: () => boolean): boolean {
  let ok = cache.get(key);
  if (ok === undefined) {
    try {
      ok = /^[A-Za-z0-9.+-]+$/.test(key) && test();
    } catch {
      ok = false;
    }
    cache.set(key, ok);
  }
  return ok;
}

/** true for a listed SPDX licence id, exactly as listed (case included) */
export function isSpdxLicenseId(id: string): boolean {
  return cached(ids, id, () => parse(id).license === id);
}

/** true for a listed SPDX exception id (the part after WITH) */
export function isSpdxExceptionId(id: string): boolean {
  return cached(exceptions, id, () => parse(`MIT WITH ${id}`).exception === id);
}

/** true when the whole text parses as an SPDX expression */
export function isSpdxExpression(text: string): boolean {
  try {
    parse(text);
    return true;
  } catch {
    return false;
  }
}
