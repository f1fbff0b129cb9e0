/**
 * Help text for every command (`tapvpn <command> --help`). Kept apart from
 * the dispatch so the texts read as one document.
 */

export const COMMANDS = ['genkey', 'pubkey', 'check-config', 'server', 'client', 'relay', 'status', 'demo'] as const;
export type Command = (typeof COMMANDS)[number];

export const MAIN_USAGE = `tapvpn — a VPN on a pseudo network adapter: a TAP device whose DHCP and ARP
are answered locally, tunnelled over authenticated TCP.

Usage: tapvpn <command> [options]

Commands:
  genkey [--out FILE]              new private key (stdout, or FILE created 0600)
  pubkey [--in FILE]               public key of a private key (stdin or FILE)
  check-config server|client|relay FILE
                                   validate a config file and print a summary
  server --config FILE             run the tunnel server
  client --config FILE             run the road-warrior client
  relay --config FILE              run a relay node
  status [--json] [--socket PATH]  who is connected: ask running daemons
  demo                             client, server and LAN host in namespaces (root)

Options:
  -h, --help       help for tapvpn or for a command (tapvpn server --help)
  -V, --version    print the version
  --debug          stack traces with errors, debug-level logs (also TAPVPN_DEBUG=1)

Environment: TAPVPN_LOG_LEVEL (overrides log_level), TAPVPN_LOG_JSON=1 (JSON
logs on a terminal), TAPVPN_DEBUG=1.
Exit status: 0 ok, 1 runtime failure, 2 usage or configuration error.
Configuration keys: docs/CONFIG.md; annotated examples: examples/.`;

export const COMMAND_USAGE: Record<Command, string> = {
  genkey: `Usage: tapvpn genkey [--out FILE]

Generates a static X25519 private key (32 random bytes, base64, as wg genkey).
Without --out it is printed on stdout:   tapvpn genkey > server.key  (mind the umask)
With --out FILE it is written to FILE, created with mode 0600 and never over
an existing file, and the matching public key is printed on stdout:
  tapvpn genkey --out /var/lib/tapvpn/server.key > server.pub`,
  pubkey: `Usage: tapvpn pubkey [--in FILE]

Prints the public key of a private key, as wg pubkey: read from stdin, or from
FILE (which must not be readable by group or others).
  tapvpn genkey | tee client.key | tapvpn pubkey
  tapvpn pubkey --in /var/lib/tapvpn/server.key`,
  'check-config': `Usage: tapvpn check-config server|client|relay FILE [--json]

Validates FILE against the schema for its kind and prints a summary (never key
material). Every problem is listed as  FILE: key.path: expected ..., got ...
The private key file the config names is checked too (exists, mode 0600, a
valid key); a missing key file is a warning, a readable or malformed one an error.
  --json    print the parsed config (defaults filled in) as JSON
Exit status 0 when valid, 2 when not.`,
  server: `Usage: tapvpn server --config FILE

Runs the tunnel server: listens for tunnels, authenticates clients by name and
public key, leases addresses from its pool and joins the tunnels to its own TAP
adapter. Needs root or CAP_NET_ADMIN (for /dev/net/tun and addresses).
Signals: SIGHUP reloads the authorized clients from FILE, as does a change of
FILE's content (reload.watch; tunnels of clients still allowed stay up); SIGINT/SIGTERM close every tunnel with SHUTTING_DOWN
and exit (a second signal exits at once).`,
  client: `Usage: tapvpn client --config FILE

Connects to the server (through the configured relays, if any), verifies it by
its pinned public key, creates the TAP adapter and lets the host take the
lease over DHCP (or configures it directly with address_mode = "static").
Reconnects with backoff when the connection drops, keeping adapter and address.
Signals: SIGINT/SIGTERM end the tunnel and remove the adapter.
Exit status 1 when the server refuses the client for good (wrong key, disabled).`,
  relay: `Usage: tapvpn relay --config FILE

Runs a relay node: reads the RELAY frame that opens each connection, finds its
own name in the path, connects to the next hop (or picks a healthy, least
loaded server of a group) and forwards frames both ways. It holds no session
keys and cannot read or alter tunnel data undetected.
Signals: SIGINT/SIGTERM close every relayed tunnel with SHUTTING_DOWN and exit.`,
  status: `Usage: tapvpn status [--json] [--socket PATH]

Asks running daemons over their control sockets (docs/OPERATIONS.md) and prints
what they carry: a server one row per tunnel (client, address, peer, path,
suite, key generation, connected since, traffic, drops, last activity, RTT),
its pool and listener; a client its state, server, lease, traffic and
reconnects; a relay its connections, group members and refusals.
Without --socket, every daemon with a socket in /run/tapvpn.
  -s, --socket PATH   ask the daemon on PATH (its control.socket)
  --json              the status as JSON (an array when asking every daemon)
Needs root or membership in the sockets' control.group.`,
  demo: `Usage: tapvpn demo

Builds network namespaces for a road-warrior client, a tunnel server and a LAN
host on this machine, starts server and client with fresh keys, shows the
client taking its address over the emulated DHCP, then ping and an HTTP
request crossing the tunnel and the tunnel's counters. Removes everything it
created, also on Ctrl-C and on failure. Needs root.`,
};

export function isCommand(name: string): name is Command {
  return (COMMANDS as readonly string[]).includes(name);
}
