// The modules the build script (playground/scripts/build.mts) makes up.
declare module "netc:samples" {
  /** samples/*.net by file name. */
  const samples: Record<string, string>;
  export default samples;
}
declare module "netc:runtime" {
  /** dist/runtime's files by path (`model.js`, `data/x.js`, `api-types.d.ts`), node/ left out. */
  const files: Record<string, string>;
  export default files;
}
declare module "*.css";
