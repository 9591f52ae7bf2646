// The part of the WebAssembly JS API that jobs/wasm-*.ts use. Node has it at run time, but the
// node build's lib is ES2022 without DOM, where TypeScript declares it; the browser build takes
// TypeScript's own (lib.dom.d.ts) and does not see this file.
declare namespace WebAssembly {
  interface ModuleImportDescriptor {
    kind: 'function' | 'table' | 'memory' | 'global' | 'tag';
    module: string;
    name: string;
  }
  interface ModuleExportDescriptor {
    kind: 'function' | 'table' | 'memory' | 'global' | 'tag';
    name: string;
  }
  class Module {
    constructor(bytes: Uint8Array | ArrayBuffer);
    static imports(module: Module): ModuleImportDescriptor[];
    static exports(module: Module): ModuleExportDescriptor[];
  }
  type ExportValue = Function | Memory | object;
  type ModuleImports = Record<string, Function | object>;
  type Imports = Record<string, ModuleImports>;
  class Instance {
    constructor(module: Module, imports?: Imports);
    readonly exports: Record<string, ExportValue>;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
  }
  function compile(bytes: Uint8Array | ArrayBuffer): Promise<Module>;
}
