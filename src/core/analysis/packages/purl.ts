// Package URLs for what the catalogers find, written as syft and trivy write them so that
// vulnerability databases keyed by purl match.
import { PackageURL } from 'packageurl-js';
import type { Distro, Ecosystem } from '../types.ts';
import { CatalogError, type ParsedPackage, type PurlContext } from './types.ts';
import { pep503Name } from './python.ts';

/**
 * The namespace when the image's distro is unknown: an apk or dpkg database says which family it
 * is, so alpine and debian are what those purls would most likely carry. rpm spans too many vendors
 * (fedora, redhat, opensuse, amazon…) to guess: its purl goes without a namespace.
 */
const DEFAULT_NAMESPACE: Partial<Record<Ecosystem, string>> = { deb: 'debian', apk: 'alpine' };

/** `distro=<id>-<version_id>` (`<id>` alone when the version is unknown), nothing when the distro is. */
export function distroQualifier(distro: Distro | null): string | undefined {
  if (!distro) return undefined;
  return distro.versionId ? `${distro.id}-${distro.versionId}` : distro.id;
}

/**
 * deb:    pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12&upstream=glibc
 * apk:    pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=alpine-3.20.1
 * rpm:    pkg:rpm/fedora/bash@5.2.26-3.fc40?arch=x86_64&epoch=1&distro=fedora-40&upstream=bash-…src.rpm
 * pypi:   pkg:pypi/pyyaml@6.0 (PEP 503 name);  npm: pkg:npm/%40scope/name@1.0.0
 * golang: pkg:golang/github.com/foo/bar@v1.2.3;  Go itself: pkg:golang/stdlib@1.22.1
 * Throws CatalogError when the package cannot be written as a purl (an empty name).
 */
export function purlFor(ecosystem: Ecosystem, pkg: ParsedPackage, ctx: PurlContext): string {
  const hint = pkg.purl ?? {};
  const qualifiers: Record<string, string> = {};
  let namespace = hint.namespace;
  let name = hint.name ?? pkg.name;
  let version = pkg.version;
  const distroPkg = ecosystem === 'deb' || ecosystem === 'apk' || ecosystem === 'rpm';
  if (distroPkg) {
    namespace ??= ctx.distro?.id ?? DEFAULT_NAMESPACE[ecosystem];
    if (pkg.arch) qualifiers.arch = pkg.arch;
    const d = distroQualifier(ctx.distro);
    if (d) qualifiers.distro = d;
  }
  if (ecosystem === 'rpm') {
    // rpm purls carry the epoch as a qualifier, not in the version
    const m = /^(\d+):(.*)$/.exec(version);
    if (m) {
      qualifiers.epoch = m[1];
      version = m[2];
    }
  } else if (ecosystem === 'pypi') {
    name = pep503Name(name);
  } else if (ecosystem === 'golang' && namespace === undefined) {
    if (name === 'stdlib') {
      version = version.replace(/^go(?=\d)/, '');
    } else {
      const slash = name.lastIndexOf('/');
      if (slash > 0) {
        namespace = name.slice(0, slash);
        name = name.slice(slash + 1);
      }
    }
  }
  Object.assign(qualifiers, hint.qualifiers);
  try {
    const q = Object.keys(qualifiers).length > 0 ? qualifiers : undefined;
    return new PackageURL(ecosystem, namespace, name, version, q, hint.subpath).toString();
  } catch (e) {
    throw new CatalogError(`cannot write a package URL for ${ecosystem} package ${JSON.stringify(pkg.name)}@${pkg.version}: ${(e as Error).message}`);
  }
}
