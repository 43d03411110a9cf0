// Ambient types for the part of the WebAssembly JS API the backend uses: the project compiles
// with lib es2022 and no DOM lib, and @types/node does not declare these globals.
export {};

declare global {
  namespace WebAssembly {
    interface MemoryDescriptor {
      initial: number;
      maximum?: number;
      shared?: boolean;
    }
    interface Memory {
      readonly buffer: ArrayBuffer | SharedArrayBuffer;
      grow(delta: number): number;
    }
    interface Module {}
    type ExportValue = Function | Memory;
    interface Instance {
      readonly exports: Record<string, ExportValue>;
    }
    type Imports = Record<string, Record<string, Memory | Function>>;
    var Memory: { new (descriptor: MemoryDescriptor): Memory };
    var Module: { new (bytes: Uint8Array): Module };
    var Instance: { new (module: Module, imports?: Imports): Instance };
    function validate(bytes: Uint8Array): boolean;
  }
}
