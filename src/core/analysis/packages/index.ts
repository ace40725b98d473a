// Package catalogers, one file per ecosystem: the file-based ones a driver runs over every layer,
// the Go binary reader (asked about executables), purls and the distro from os-release.
import { apkCataloger } from './apk.ts';
import { dpkgCataloger } from './dpkg.ts';
import { npmCataloger } from './npm.ts';
import { pythonCataloger } from './python.ts';
import { rpmCataloger } from './rpm.ts';
import type { FileCataloger } from './types.ts';

export const FILE_CATALOGERS: FileCataloger[] = [dpkgCataloger, apkCataloger, rpmCataloger, pythonCataloger, npmCataloger];

export * from './types.ts';
export { apkCataloger, parseApkInstalled } from './apk.ts';
export { dpkgCataloger, dpkgStatusMatch, parseDpkgStatus, debCopyrightMatch, debCopyrightLicenses, parseDebCopyright, debianLicenseToSpdx } from './dpkg.ts';
export { npmCataloger, npmPackageJsonMatch, parseNpmPackageJson, npmLicense } from './npm.ts';
export { pythonCataloger, pythonMetadataMatch, parsePythonMetadata, pythonLicense, pep503Name } from './python.ts';
export { rpmCataloger, parseRpmdbSqlite, parseRpmHeader, rpmVersion, RPMDB_SQLITE_PATHS, type RpmHeader } from './rpm.ts';
export { SqliteReader, type SqliteHeader, type SqliteRow, type SqliteTable, type SqlValue } from './sqlite.ts';
export { parseGoBinary, readGoBuildInfo, parseGoModInfo, goBuildInfoPackages, goMayBeBinary, type GoBuildInfo, type GoModule } from './golang.ts';
export { parseOsRelease, osReleaseMatch, OS_RELEASE_PATHS } from './os-release.ts';
export { purlFor, distroQualifier } from './purl.ts';
