import { Elysia, t } from 'elysia';
import type { WebhookService } from '../../webhooks/service.ts';
import { accessPlugin } from '../access.ts';
import { AUTH_ERRORS, errors, Page, PageQuery } from '../schemas.ts';
import {
  CreatedWebhook,
  Delivery,
  DeliveryDetail,
  DeliveryParams,
  NewWebhookBody,
  Webhook,
  WebhookParams,
} from './schema.ts';

const SIGNING =
  'Each delivery is a JSON POST with `Slipway-Event`, `Slipway-Delivery` and `Slipway-Signature: t=<unix>,v1=<hex>`, ' +
  'the HMAC-SHA256 of `<t>.<body>` with the secret; failed attempts (no 2xx in 10 s, redirects included) are retried ' +
  'with exponential backoff for 24 h.';

/** /v1/webhooks: register URLs for events, list them and their deliveries, redeliver (admin). */
export function webhookRoutes({ webhooks }: { webhooks: WebhookService }) {
  return new Elysia({ prefix: '/webhooks' })
    .use(accessPlugin)
    .post(
      '',
      async ({ actor, body, set }) => {
        const created = await webhooks.create(actor, body);
        set.status = 201;
        return created;
      },
      {
        access: { scope: 'admin' },
        body: NewWebhookBody,
        detail: {
          summary: 'Add a webhook',
          description: `Answers with the signing secret, shown only here. URLs resolving to loopback, private, link-local or reserved addresses or the agent's own are refused (422) unless SLIPWAY_WEBHOOK_ALLOW_PRIVATE=true. ${SIGNING}`,
          tags: ['Webhooks'],
        },
        response: { 201: CreatedWebhook, ...errors(400, 404, 415, 422, ...AUTH_ERRORS) },
      },
    )
    .get('', ({ query }) => webhooks.list({ cursor: query.cursor, limit: query.limit ?? 50 }), {
      access: { scope: 'admin' },
      query: t.Object(PageQuery),
      detail: { summary: 'List webhooks, newest first', tags: ['Webhooks'] },
      response: { 200: Page(Webhook), ...errors(400, 422, ...AUTH_ERRORS) },
    })
    .get('/:id', ({ params }) => webhooks.get(params.id), {
      access: { scope: 'admin' },
      params: WebhookParams,
      detail: { summary: 'Get a webhook', tags: ['Webhooks'] },
      response: { 200: Webhook, ...errors(404, 422, ...AUTH_ERRORS) },
    })
    .delete(
      '/:id',
      ({ actor, params, set }) => {
        webhooks.remove(actor, params.id);
        set.status = 204;
      },
      {
        access: { scope: 'admin' },
        params: WebhookParams,
        detail: { summary: 'Remove a webhook and its deliveries', tags: ['Webhooks'] },
        response: { 204: t.Void(), ...errors(404, 422, ...AUTH_ERRORS) },
      },
    )
    .get(
      '/:id/deliveries',
      ({ params, query }) => webhooks.deliveries(params.id, { cursor: query.cursor, limit: query.limit ?? 50 }),
      {
        access: { scope: 'admin' },
        params: WebhookParams,
        query: t.Object(PageQuery),
        detail: {
          summary: "List a webhook's deliveries, newest first",
          description:
            'Each with its status, attempts, and the last response code, error and duration. Ended deliveries are kept 30 days.',
          tags: ['Webhooks'],
        },
        response: { 200: Page(Delivery), ...errors(400, 404, 422, ...AUTH_ERRORS) },
      },
    )
    .get('/:id/deliveries/:delivery', ({ params }) => webhooks.delivery(params.id, params.delivery), {
      access: { scope: 'admin' },
      params: DeliveryParams,
      detail: { summary: 'Get a delivery with its payload and attempts', tags: ['Webhooks'] },
      response: { 200: DeliveryDetail, ...errors(404, 422, ...AUTH_ERRORS) },
    })
    .post(
      '/:id/deliveries/:delivery/redeliver',
      ({ actor, params, set }) => {
        set.status = 202;
        return webhooks.redeliver(actor, params.id, params.delivery);
      },
      {
        access: { scope: 'admin' },
        params: DeliveryParams,
        detail: {
          summary: 'Redeliver a delivery',
          description:
            'Queues its event again as a new delivery (same event id and body, a new 24 h retry window). 409 while the original is still being retried.',
          tags: ['Webhooks'],
        },
        response: { 202: Delivery, ...errors(404, 409, 422, ...AUTH_ERRORS) },
      },
    );
}
