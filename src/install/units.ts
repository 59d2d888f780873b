/**
 * The systemd units of `slipway install`: slipway.service (the API and the deploy worker) and
 * slipway-edge.service (the HTTP and HTTPS edge), two processes of the same executable so that the apps
 * keep being served while the API restarts or is upgraded, run by two users: the edge's may read
 * the route store and write its own state, and nothing else of the data directory.
 */
import { EDGE_STATE_DIR } from '../edge/layout.ts';

/** Where the install puts things; tests point these at a temporary directory. */
export interface InstallPaths {
  binary: string;
  dataDir: string;
  unitDir: string;
  etcDir: string;
}

/** The paths of a real install. */
export const DEFAULT_PATHS: InstallPaths = {
  binary: '/usr/local/bin/slipway',
  dataDir: '/var/lib/slipway',
  unitDir: '/etc/systemd/system',
  etcDir: '/etc/slipway',
};

/** The system user of the API/worker; it owns the data directory. */
export const SERVICE_USER = 'slipway';

/** The system user of the edge: it reads the route store and writes its state, nothing else. */
export const EDGE_USER = 'slipway-edge';

/** The unit names: the API/worker first, then the edge. */
export const UNIT_NAMES = { api: 'slipway.service', edge: 'slipway-edge.service' } as const;

/** What only the edge writes: its state file and its TMPDIR. */
export function edgeStatePath(paths: InstallPaths): string {
  return `${paths.dataDir}/${EDGE_STATE_DIR}`;
}

/** The file of operator settings both units read (it overrides their Environment= lines). */
export function envFilePath(paths: InstallPaths): string {
  return `${paths.etcDir}/slipway.env`;
}

// Sandboxing shared by both units; %WRITABLE% is the one directory a unit may write (the data
// directory for the API, the edge's state directory for the edge). Not set, on purpose:
// MemoryDenyWriteExecute (Bun's JavaScript JIT needs memory that is written, then executed), and an
// allow-list SystemCallFilter (the runtime's system calls vary by Bun release); the deny-list below
// names groups no Bun uses, and a blocked call fails with EPERM rather than killing the agent.
const HARDENING = `NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=%WRITABLE%
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
RestrictNamespaces=yes
LockPersonality=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
SystemCallArchitectures=native
SystemCallFilter=~@clock @cpu-emulation @debug @module @mount @obsolete @raw-io @reboot @swap
SystemCallErrorNumber=EPERM
RemoveIPC=yes
PrivateMounts=yes
ProtectProc=invisible
UMask=0077`;

const COMMON_ENV = `Environment=SLIPWAY_DATA_DIR=%DATA%
# The compiled executable unpacks its native SQLite addon into $TMPDIR and loads it from there;
# /tmp may be mounted noexec, so it gets a directory of its own inside what the unit may write.
Environment=TMPDIR=%WRITABLE%/tmp`;

/** slipway.service: `slipway serve --role api`. */
export function apiUnit(paths: InstallPaths, version: string): string {
  return fill(
    `# Written by \`slipway install\` (Slipway ${version}); \`slipway uninstall\` removes it.
[Unit]
Description=Slipway deploy agent: REST API and deploy worker
After=network-online.target docker.service
Wants=network-online.target

[Service]
Type=simple
# Build isolation (the build network, its firewall rules, the process-limit cgroups) needs root:
# "+" runs this one command with full privileges, before the agent starts as the slipway user.
ExecStartPre=+%BIN% prepare-builds
ExecStart=%BIN% serve --role api
# The unprivileged "slipway" user, not root. The agent drives Docker, so it joins the docker
# group, and that group is root-equivalent: this is no wall against a compromised agent. It does
# keep a bug in Slipway from writing anywhere but its data directory (with ProtectSystem=strict),
# and it lets the edge, which faces the internet, run with no Docker access at all.
User=slipway
Group=slipway
SupplementaryGroups=docker
${COMMON_ENV}
Environment=SLIPWAY_API_LISTEN=127.0.0.1:7070
EnvironmentFile=-%ETC%/slipway.env
Restart=on-failure
RestartSec=2
# serve gives in-flight requests 5 s after SIGTERM, then stops the worker.
TimeoutStopSec=30
CapabilityBoundingSet=
AmbientCapabilities=
${HARDENING}

[Install]
WantedBy=multi-user.target
`,
    paths,
    paths.dataDir,
  );
}

/** slipway-edge.service: `slipway serve --role edge` on ports 80 and 443. */
export function edgeUnit(paths: InstallPaths, version: string): string {
  return fill(
    `# Written by \`slipway install\` (Slipway ${version}); \`slipway uninstall\` removes it.
[Unit]
Description=Slipway edge: the HTTP and HTTPS reverse proxy in front of the apps
# Ordering only: on boot the API publishes the route store first. The edge never stops with the API:
# it keeps serving the apps from the last route table while the API restarts or is upgraded.
After=network-online.target slipway.service
Wants=network-online.target

[Service]
Type=simple
ExecStart=%BIN% serve --role edge
# A user of its own, without the docker group: the edge never talks to Docker. Of the data
# directory it may read only the route store (%DATA%/edge, group slipway-edge) and write only its
# state (%DATA%/edge-state); the database, the master key and the admin token are the slipway
# user's alone. Ports 80 and 443 need CAP_NET_BIND_SERVICE, and that is its only capability.
# It reads certificates from the route store and picks one per TLS handshake, so a new or renewed
# certificate is served without restarting the unit.
User=slipway-edge
Group=slipway-edge
AmbientCapabilities=CAP_NET_BIND_SERVICE
CapabilityBoundingSet=CAP_NET_BIND_SERVICE
${COMMON_ENV}
Environment=SLIPWAY_HTTP_LISTEN=0.0.0.0:80
Environment=SLIPWAY_HTTPS_LISTEN=0.0.0.0:443
EnvironmentFile=-%ETC%/slipway.env
Restart=on-failure
RestartSec=1
TimeoutStopSec=45
${HARDENING}

[Install]
WantedBy=multi-user.target
`,
    paths,
    edgeStatePath(paths),
  );
}

/** The first content of the operator's settings file (kept as is on reinstall and uninstall). */
export function envFile(baseDomain: string | null): string {
  return `# Settings of slipway.service and slipway-edge.service, one VAR=value per line. They override the
# units' Environment= lines; every setting is in the README's configuration table.
# Apply a change with: systemctl restart slipway slipway-edge
${baseDomain ? `SLIPWAY_BASE_DOMAIN=${baseDomain}` : '#SLIPWAY_BASE_DOMAIN=apps.example.com'}
`;
}

function fill(template: string, paths: InstallPaths, writable: string): string {
  return template
    .replaceAll('%WRITABLE%', writable)
    .replaceAll('%BIN%', paths.binary)
    .replaceAll('%DATA%', paths.dataDir)
    .replaceAll('%ETC%', paths.etcDir);
}
