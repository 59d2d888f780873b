/**
 * Network holders: a tiny container that owns an app instance's network namespace, made while the
 * release's image builds, which the app container then joins (`NetworkMode: container:<holder>`).
 * Starting a container on a user-defined network costs the engine most of the container's start
 * (a veth pair, the port's proxy and NAT rules, the embedded DNS's rules in the new namespace,
 * ~80 ms more than on the default bridge here); with the namespace made ahead, the app's own start
 * skips all of it and the deploy's path gets shorter by that much. Kubernetes' pods hold their
 * network the same way (the "pause" container).
 *
 * A holder is on the project's network, publishes the app's port on 127.0.0.1 as an app container
 * did, runs nothing but a pause() loop (a 129-byte program, below) under the engine's init, with no
 * capabilities, a read-only root and tight limits. It lives and goes with its app container
 * (instances.ts). Only x86-64 engines get holders; elsewhere apps start on the network themselves.
 */
import type Docker from 'dockerode';
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { holderLabels } from './labels.ts';

/** The image every holder runs: the pause program alone. */
export const HOLDER_IMAGE = 'slipway/network-holder:1';

/** What a holder is made for: the instance's project, network and published port. */
export interface HolderSpec {
  agentId: string;
  project: string;
  network: string;
  port: number;
}

/**
 * The pause program, a static x86-64 ELF executable: one loadable segment whose code is
 * `loop: mov eax, 34 (pause); syscall; jmp loop`. It sleeps until a signal ends it (SIGTERM's
 * default action, as the engine's init forwards it); null on other architectures.
 */
export function pauseProgram(arch: string = process.arch): Uint8Array | null {
  if (arch !== 'x64') return null;
  const code = [0xb8, 0x22, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xeb, 0xf7];
  const base = 0x400000n;
  const headers = 64 + 56;
  const size = BigInt(headers + code.length);
  const bytes = new Uint8Array(headers + code.length);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]); // ELF, 64-bit, little-endian, version 1
  bytes.set(code, headers);
  const out = new DataView(bytes.buffer);
  out.setUint16(16, 2, true); // an executable
  out.setUint16(18, 0x3e, true); // x86-64
  out.setUint32(20, 1, true);
  out.setBigUint64(24, base + BigInt(headers), true); // entry: the code after the headers
  out.setBigUint64(32, 64n, true); // program headers right after this one
  out.setUint16(52, 64, true);
  out.setUint16(54, 56, true);
  out.setUint16(56, 1, true);
  out.setUint32(64, 1, true); // PT_LOAD
  out.setUint32(68, 5, true); // read + execute
  out.setBigUint64(80, base, true);
  out.setBigUint64(88, base, true);
  out.setBigUint64(96, size, true);
  out.setBigUint64(104, size, true);
  out.setBigUint64(112, 0x1000n, true);
  return bytes;
}

/** Makes HOLDER_IMAGE from the pause program if the engine lacks it; false where holders cannot run. */
export async function ensureHolderImage(docker: Docker): Promise<boolean> {
  const program = pauseProgram();
  if (program === null) return false;
  const found = await docker
    .getImage(HOLDER_IMAGE)
    .inspect()
    .catch(() => null);
  if (found) return true;
  const tar = pack();
  tar.entry({ name: 'pause', mode: 0o755, uid: 0, gid: 0 }, Buffer.from(program));
  tar.finalize();
  const [repo, tag] = HOLDER_IMAGE.split(':');
  const progress = await docker.importImage(Readable.from(tar as unknown as AsyncIterable<Buffer>), {
    repo,
    tag,
    changes: ['ENTRYPOINT ["/pause"]', 'LABEL slipway.managed=true'],
  } as object);
  await new Promise<void>((resolve, reject) =>
    docker.modem.followProgress(progress, (err: Error | null) => (err ? reject(err) : resolve())),
  );
  return true;
}

/** Creates and starts a holder; returns its container id. */
export async function startHolder(docker: Docker, spec: HolderSpec): Promise<string> {
  const portKey = `${spec.port}/tcp`;
  const container = await docker.createContainer({
    name: `slipway-${spec.project}-net-${crypto.randomUUID().slice(0, 8)}`,
    Image: HOLDER_IMAGE,
    Labels: holderLabels(spec.agentId, spec.project),
    ExposedPorts: { [portKey]: {} },
    HostConfig: {
      PortBindings: { [portKey]: [{ HostIp: '127.0.0.1', HostPort: '' }] },
      NetworkMode: spec.network,
      Memory: 16 * 1024 * 1024,
      MemorySwap: 16 * 1024 * 1024,
      NanoCpus: 100_000_000,
      PidsLimit: 4,
      SecurityOpt: ['no-new-privileges'],
      CapDrop: ['ALL'],
      ReadonlyRootfs: true,
      LogConfig: { Type: 'none', Config: {} },
      RestartPolicy: { Name: 'unless-stopped' },
      Init: true,
    },
  });
  try {
    await container.start();
  } catch (err) {
    await container.remove({ force: true }).catch(() => {});
    throw err;
  }
  return container.id;
}

/** Removes holders at once (they hold nothing to stop gracefully); ones already gone are fine. */
export async function removeHolders(docker: Docker, ids: string[]): Promise<void> {
  await Promise.all(
    ids.map((id) =>
      docker
        .getContainer(id)
        .remove({ force: true })
        .catch((err: { statusCode?: number }) => {
          if (err.statusCode !== 404 && err.statusCode !== 409) throw err;
        }),
    ),
  );
}
