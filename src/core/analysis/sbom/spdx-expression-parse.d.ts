// spdx-expression-parse ships no types, and @types/spdx-expression-parse would be a dependency
// for one function: this declares only what the SBOM writers call.
declare module 'spdx-expression-parse' {
  export type Info =
    | { license: string; plus?: true; exception?: string }
    | { conjunction: 'and' | 'or'; left: Info; right: Info };
  /** Parses an SPDX licence expression; throws on anything that is not one. */
  export default function parse(source: string): Info;
}
