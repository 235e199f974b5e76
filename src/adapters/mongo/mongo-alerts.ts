import { MongoBulkWriteError } from 'mongodb';
import type { Db, Filter } from 'mongodb';
import type { Alert } from '../../alerts/alert-evaluation.ts';
import type { Severity } from '../../alerts/alert-rules.ts';
import type { AlertStore } from '../../alerts/alert-store.port.ts';
import type { CreditScoreStore } from '../../scores/credit-score-store.port.ts';
import type { Guard } from './mongo-guard.ts';

/** `alerts`: one immutable document per alert, _id the deterministic alert id. */
export interface AlertDoc {
  _id: string;
  user_id: string;
  rule: Alert['rule'];
  rule_key: string;
  severity: Severity;
  raised_at: Date;
  transaction_id: string;
  details: Alert['details'];
  rules_version: string;
}

/** `alert_rule_states`: one document per user, its rule states keyed by rule key. */
export interface RuleStatesDoc {
  _id: string;
  states?: Record<string, { active: boolean; crossings: number; since: string | null }>;
  /** The last event evaluated: its partition, offset (decimal text: int64) and occurred_at. */
  evaluated_through?: { partition: number; offset: string; occurred_at: Date };
}

/** `credit_scores`: the last score computed for each user. */
export interface CreditScoreDoc {
  _id: string;
  score: number;
  band: string;
  model_version: string;
  computed_at: Date;
}

/** Called from openMongoStorage's index creation, so the index lives beside the query it serves. */
export function createAlertIndexes(db: Db): Promise<string> {
  // Equality on the user, then the page order: a page reads `limit` entries on real MongoDB.
  return db
    .collection<AlertDoc>('alerts')
    .createIndex({ user_id: 1, raised_at: -1, _id: -1 }, { name: 'user_alerts' }, undefined);
}

/**
 * Alerts are only ever inserted, under their deterministic id, so a redelivered event's alert is a
 * duplicate-key error the insert ignores: an insert under a unique _id is atomic on every
 * MongoDB-protocol server, conditional updates are not (FerretDB).
 */
export function createMongoAlertStore(db: Db, guard: Guard): AlertStore {
  const alerts = db.collection<AlertDoc>('alerts');
  const rules = db.collection<RuleStatesDoc>('alert_rule_states');

  return {
    async insert(batch) {
      if (batch.length === 0) return; // insertMany rejects an empty batch
      // Unordered, so every new alert of a batch is stored even when some of its ids already are.
      await guard(() => alerts.insertMany(batch.map(toDoc), { ordered: false })).catch((error: unknown) => {
        if (!onlyDuplicates(error)) throw error;
      });
    },
    async listByUser(userId, after, limit) {
      if (limit <= 0) return []; // MongoDB reads limit 0 as "no limit"
      const filter: Filter<AlertDoc> = { user_id: userId };
      if (after !== undefined) {
        filter.$or = [
          { raised_at: { $lt: after.raisedAt } },
          { raised_at: after.raisedAt, _id: { $lt: after.id } },
        ];
      }
      const docs = await guard(() =>
        alerts.find(filter).sort({ raised_at: -1, _id: -1 }).limit(limit).toArray(),
      );
      return docs.map(toAlert);
    },
    countSince(userId, since) {
      return guard(() => alerts.countDocuments({ user_id: userId, raised_at: { $gte: since } }));
    },
    async ruleStates(userId) {
      const doc = await guard(() => rules.findOne({ _id: userId }));
      const through = doc?.evaluated_through;
      return {
        states: new Map(Object.entries(doc?.states ?? {})),
        evaluatedThrough:
          through === undefined
            ? null
            : {
                partition: through.partition,
                offset: BigInt(through.offset),
                occurredAt: through.occurred_at,
              },
      };
    },
    async saveRuleStates(byUser) {
      const ops = [...byUser].flatMap(([userId, { states, evaluatedThrough }]) => {
        const set: Record<string, unknown> = {};
        for (const [key, state] of states) {
          // The key becomes a field name: '.' would nest it and '$' is refused as an operator.
          if (key === '' || key.includes('.') || key.includes('$')) {
            throw new RangeError(`rule key ${JSON.stringify(key)} cannot be a field name`);
          }
          set[`states.${key}`] = { active: state.active, crossings: state.crossings, since: state.since };
        }
        if (evaluatedThrough !== null) {
          set.evaluated_through = {
            partition: evaluatedThrough.partition,
            offset: evaluatedThrough.offset.toString(),
            occurred_at: evaluatedThrough.occurredAt,
          };
        }
        // an empty $set is an error
        if (Object.keys(set).length === 0) return [];
        return [{ updateOne: { filter: { _id: userId }, update: { $set: set }, upsert: true } }];
      });
      if (ops.length === 0) return;
      // Not atomic as a conditional update would need to be, and need not be: one writer per user
      // (the worker's partition owner), so no other write can interleave with this one.
      await guard(() => rules.bulkWrite(ops, { ordered: false }));
    },
  };
}

/** One document per user, replaced whole: the worker is its only writer, so last write wins. */
export function createMongoCreditScoreStore(db: Db, guard: Guard): CreditScoreStore {
  const scores = db.collection<CreditScoreDoc>('credit_scores');
  return {
    async get(userId) {
      const doc = await guard(() => scores.findOne({ _id: userId }));
      if (doc === null) return null;
      return {
        score: doc.score,
        band: doc.band,
        modelVersion: doc.model_version,
        computedAt: doc.computed_at,
      };
    },
    async put(all) {
      if (all.size === 0) return;
      const ops = [...all].map(([userId, score]) => {
        const doc: CreditScoreDoc = {
          _id: userId,
          score: score.score,
          band: score.band,
          model_version: score.modelVersion,
          computed_at: score.computedAt,
        };
        return { replaceOne: { filter: { _id: userId }, replacement: doc, upsert: true } };
      });
      await guard(() => scores.bulkWrite(ops, { ordered: false }));
    },
  };
}

/** True when every failed insert of the batch failed on an id already stored (code 11000). */
function onlyDuplicates(error: unknown): boolean {
  if (!(error instanceof MongoBulkWriteError)) return false;
  const failures = [error.writeErrors].flat();
  // No write errors means something else failed (a write concern error): not ours to swallow.
  return failures.length > 0 && failures.every((e) => e.code === 11000);
}

function toDoc(alert: Alert): AlertDoc {
  return {
    _id: alert.id,
    user_id: alert.userId,
    rule: alert.rule,
    rule_key: alert.ruleKey,
    severity: alert.severity,
    raised_at: alert.raisedAt,
    transaction_id: alert.transactionId,
    details: alert.details,
    rules_version: alert.rulesVersion,
  };
}

function toAlert(doc: AlertDoc): Alert {
  return {
    id: doc._id,
    userId: doc.user_id,
    rule: doc.rule,
    ruleKey: doc.rule_key,
    severity: doc.severity,
    raisedAt: doc.raised_at,
    transactionId: doc.transaction_id,
    details: doc.details,
    rulesVersion: doc.rules_version,
  };
}
