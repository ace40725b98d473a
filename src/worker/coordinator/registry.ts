// Registries from the coordinator: the core's client over the worker's fetch, and what a fetch the
// browser refused means. The coordinator runs under the page's Content-Security-Policy (engine.ts
// starts it from a blob: URL, which inherits it), so a connection the policy forbids fails here
// too and fires a `securitypolicyviolation` event naming it.
/// <reference lib="webworker" />
import { StrataError } from '../../core/errors.ts';
import type { ArchiveInfo } from '../../core/model.ts';
import type { Credentials } from '../../core/registry/auth.ts';
import type { RegistryOptions } from '../../core/registry/client.ts';
import { openRegistry, type RegistryImage } from '../../core/registry/image.ts';
import { corsAdvice, saveCommand } from '../../core/registry/messages.ts';
import { parseReference } from '../../core/registry/reference.ts';
import { env } from './context.ts';

/** Origins the page's policy refused, with when (a refused fetch reports no reason of its own). */
const refused = new Map<string, number>();
let listening = false;

/** Starts noting the policy's refusals; done before the first registry fetch, not on import (the
 * module is also loaded where `self` is no worker scope: the fuzzer's storage target, tests). */
function noteRefusals(): void {
  if (listening) return;
  listening = true;
  self.addEventListener('securitypolicyviolation', (ev) => {
    const e = ev as SecurityPolicyViolationEvent;
    try {
      refused.set(new URL(e.blockedURI).origin, Date.now());
    } catch { /* "inline", "eval": not a connection */ }
  });
}

/** Origins that have answered this worker: a refusal reported for one of them is of a redirect. */
const answered = new Set<string>();

const fetchNoting: typeof fetch = async (input, init) => {
  const res = await fetch(input, init);
  answered.add(new URL(res.url || String(input)).origin);
  answered.add(new URL(String(input)).origin);
  return res;
};

/** The page's origin (the coordinator's location is a blob: URL of it). */
const pageOrigin = (): string => new URL(self.location.href).origin;

/**
 * Why the browser let no answer through: the page's policy refused the connection, or the server
 * answered without CORS headers (a no-cors request still reaches it), or it is not reachable.
 */
function explainFailure(input: string): RegistryOptions['explainFailure'] {
  return async (url, err, signal) => {
    const origin = new URL(url).origin;
    const name = input.replace(/^docker:\/\//i, '');
    const ref = parseReference(input);
    // the violation event is queued as a task; let it arrive
    await new Promise((ok) => setTimeout(ok, 20));
    const at = refused.get(origin);
    if (at !== undefined && Date.now() - at < 60_000 && answered.has(origin)) {
      // Chromium names the URL asked for, not where it redirected: the registry answers, so its
      // redirect (to blob storage, a CDN) went somewhere the policy does not allow
      return new StrataError('REGISTRY_BLOCKED', `${name}: the registry redirected a download (${new URL(url).pathname.split('/').pop()}) to another server, which this page's Content-Security-Policy does not allow; the browser does not say which (blob storage, a CDN). ` +
        `Its Location header names it (curl -sI ${url}); add &allow=ORIGIN to the page's address to allow it, or save the image as an archive: ${saveCommand(ref)}`);
    }
    if (at !== undefined && Date.now() - at < 60_000) {
      return new StrataError('REGISTRY_BLOCKED', `${name}: this page's Content-Security-Policy does not allow connections to ${origin}, which the registry sent it to. ` +
        `A link allows the registry it names (?image=REF) and the token service it uses; add &allow=${origin} to the page's address to allow this one too, or save the image as an archive: ${saveCommand(ref)}`);
    }
    let answers = false;
    try {
      await fetch(url, { mode: 'no-cors', credentials: 'omit', cache: 'no-store', signal });
      answers = true;
    } catch { /* no answer at all */ }
    if (signal?.aborted) return new StrataError('ABORTED', 'The operation was cancelled.');
    if (answers) return new StrataError('REGISTRY_CORS', `${name}: ${corsAdvice(ref, origin, pageOrigin())}`, { cause: err });
    return new StrataError('REGISTRY_UNREACHABLE', `${name}: could not connect to ${origin} (the browser gives no reason: the host may be down or unreachable, or its certificate not trusted). Check the address and the network, or save the image as an archive: ${saveCommand(ref)}`, { cause: err });
  };
}

export function registryOptions(ref: string, credentials: Credentials | undefined, signal: AbortSignal): RegistryOptions & { signal: AbortSignal } {
  noteRefusals();
  return {
    fetch: fetchNoting,
    sha256: env.sha256,
    credentials,
    credentialsHint: 'Enter a user name and password for this registry.',
    explainFailure: explainFailure(ref),
    signal,
  };
}

export function openReference(ref: string, credentials: Credentials | undefined, signal: AbortSignal): Promise<RegistryImage> {
  return openRegistry(ref, registryOptions(ref, credentials, signal));
}

export async function inspectRegistry(ref: string, credentials: Credentials | undefined, signal: AbortSignal): Promise<ArchiveInfo> {
  return (await openReference(ref, credentials, signal)).info;
}
