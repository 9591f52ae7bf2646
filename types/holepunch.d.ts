// Minimal typings for the Holepunch packages we use (they ship none).
declare module 'hyperdht' {
  import { EventEmitter } from 'node:events';
  interface KeyPair {
    publicKey: Buffer;
    secretKey: Buffer;
  }
  class DHT extends EventEmitter {
    constructor(opts?: {
      bootstrap?: (string | { host: string; port: number })[];
      host?: string;
      port?: number;
      keyPair?: KeyPair;
      ephemeral?: boolean;
      firewalled?: boolean;
      anyPort?: boolean;
    });
    static keyPair(seed?: Buffer): KeyPair;
    static bootstrapper(port: number, host: string, opts?: object): DHT;
    ready(): Promise<void>;
    fullyBootstrapped(): Promise<void>;
    address(): { host: string; port: number };
    /** The nodes of the routing table (dht-rpc): empty when no other node ever answered. */
    toArray(opts?: { limit?: number }): { host: string; port: number }[];
    destroy(opts?: { force?: boolean }): Promise<void>;
    destroyed: boolean;
  }
  export = DHT;
}

declare module 'hyperdht/testnet.js' {
  import DHT from 'hyperdht';
  interface Testnet {
    nodes: DHT[];
    bootstrap: { host: string; port: number }[];
    destroy(): Promise<void>;
  }
  function createTestnet(size?: number, opts?: { host?: string; port?: number }): Promise<Testnet>;
  export = createTestnet;
}

declare module 'hyperswarm' {
  import { EventEmitter } from 'node:events';
  import DHT from 'hyperdht';
  interface PeerDiscovery {
    flushed(): Promise<void>;
    refresh(opts?: { client?: boolean; server?: boolean }): Promise<void>;
    destroy(): Promise<void>;
  }
  interface PeerInfo {
    publicKey: Buffer;
    topics: Buffer[];
    client: boolean;
    ban(banned?: boolean): void;
  }
  interface SwarmConnection {
    remotePublicKey: Buffer;
    publicKey: Buffer;
    rawStream?: { remoteHost?: string; remotePort?: number };
    write(data: Uint8Array): boolean;
    end(): void;
    destroy(err?: Error): void;
    on(event: 'data', listener: (chunk: Buffer) => void): this;
    on(event: 'close', listener: () => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
  }
  class Hyperswarm extends EventEmitter {
    constructor(opts?: {
      dht?: DHT;
      keyPair?: { publicKey: Buffer; secretKey: Buffer };
      maxPeers?: number;
      firewall?: (remotePublicKey: Buffer) => boolean;
    });
    keyPair: { publicKey: Buffer; secretKey: Buffer };
    connections: Set<SwarmConnection>;
    peers: Map<string, PeerInfo>;
    dht: DHT;
    join(topic: Buffer, opts?: { client?: boolean; server?: boolean }): PeerDiscovery;
    leave(topic: Buffer): Promise<void>;
    joinPeer(publicKey: Buffer): void;
    leavePeer(publicKey: Buffer): void;
    flush(): Promise<boolean>;
    listen(): Promise<void>;
    destroy(opts?: { force?: boolean }): Promise<void>;
    on(event: 'connection', listener: (conn: SwarmConnection, info: PeerInfo) => void): this;
    on(event: 'update', listener: () => void): this;
  }
  namespace Hyperswarm {
    export { SwarmConnection, PeerInfo, PeerDiscovery };
  }
  export = Hyperswarm;
}
