/**
 * node:http and node:tls, loaded on first use. The native engine serving plain HTTP needs neither:
 * node:http is the `node` engine's (and its upstream Agent's), node:tls the HTTPS listener's and
 * the certificates'. Each costs an idle edge megabytes of resident code and heap when imported at
 * start (measured on the compiled binary), so the modules that use them ask here instead.
 */
import type * as Http from 'node:http';
import type * as Tls from 'node:tls';

/** node:http, loaded by the first call. */
export function nodeHttp(): typeof Http {
  return require('node:http') as typeof Http;
}

/** node:tls, loaded by the first call. */
export function nodeTls(): typeof Tls {
  return require('node:tls') as typeof Tls;
}
