import { contractStores } from './contract-stores.ts';
import { webhookStoreContract } from './webhook-store.contract.ts';

/** The WebhookStore contract on every adapter, each on a store of its own. */

const { openEmbedded, openMongo } = await contractStores('webhooks');

webhookStoreContract('embedded', openEmbedded);
webhookStoreContract('mongodb', openMongo);
