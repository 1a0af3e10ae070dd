// @casl/ability 7 publishes its types through package.json "exports" only, which the
// repository's `moduleResolution: node` does not read; point the compiler at them.
declare module '@casl/ability' {
  export * from '@casl/ability/dist/types/index';
}
declare module '@casl/ability/extra' {
  export * from '@casl/ability/dist/types/extra/index';
}
