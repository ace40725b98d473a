// Strata's version, as documents it writes name it (SBOMs); a test keeps it equal to package.json's.
export const STRATA_VERSION = '0.2.0';
