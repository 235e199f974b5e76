import type { DatabaseSync } from 'node:sqlite';
import type { Alert } from '../../alerts/alert-evaluation.ts';
import type { Severity } from '../../alerts/alert-rules.ts';
import type { AlertStore } from '../../alerts/alert-store.port.ts';
import type { CreditScoreStore } from '../../scores/credit-score-store.port.ts';
import {
  inWriteTransaction,
  readDate,
  readInt,
  readNullable,
  readNumber,
  readText,
  settle,
  type Row,
} from './embedded-sqlite.ts';

const ALERT_COLUMNS =
  'id, user_id, rule, rule_key, severity, raised_at, transaction_id, details, rules_version';

/**
 * Alerts in SQLite. Ids are deterministic, so a redelivered event's alert hits the primary key and
 * INSERT OR IGNORE keeps the one stored first; a batch is one transaction, one fsync.
 */
export function createEmbeddedAlertStore(db: DatabaseSync): AlertStore {
  const insert = db.prepare(
    `INSERT OR IGNORE INTO alerts (${ALERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const first = db.prepare(
    `SELECT ${ALERT_COLUMNS} FROM alerts WHERE user_id = ?
     ORDER BY raised_at DESC, id DESC LIMIT ?`,
  );
  // A row value comparison SQLite can seek on with the (user_id, raised_at DESC, id DESC) index.
  const next = db.prepare(
    `SELECT ${ALERT_COLUMNS} FROM alerts WHERE user_id = ? AND (raised_at, id) < (?, ?)
     ORDER BY raised_at DESC, id DESC LIMIT ?`,
  );
  const count = db.prepare('SELECT count(*) AS n FROM alerts WHERE user_id = ? AND raised_at >= ?');
  const states = db.prepare(
    'SELECT rule_key, active, crossings, since FROM alert_rule_states WHERE user_id = ?',
  );
  const saveState = db.prepare(
    `INSERT OR REPLACE INTO alert_rule_states (user_id, rule_key, active, crossings, since)
     VALUES (?, ?, ?, ?, ?)`,
  );
  const position = db.prepare(
    'SELECT topic_partition, topic_offset, occurred_at FROM alert_positions WHERE user_id = ?',
  );
  const savePosition = db.prepare(
    `INSERT OR REPLACE INTO alert_positions (user_id, topic_partition, topic_offset, occurred_at)
     VALUES (?, ?, ?, ?)`,
  );

  return {
    insert: (alerts) =>
      settle(() => {
        inWriteTransaction(db, () => {
          for (const a of alerts) {
            insert.run(
              a.id,
              a.userId,
              a.rule,
              a.ruleKey,
              a.severity,
              a.raisedAt.getTime(),
              a.transactionId,
              JSON.stringify(a.details),
              a.rulesVersion,
            );
          }
        });
      }),
    listByUser: (userId, after, limit) =>
      settle(() => {
        if (limit <= 0) return []; // SQLite reads a negative LIMIT as "no limit"
        const rows =
          after === undefined
            ? first.all(userId, limit)
            : next.all(userId, after.raisedAt.getTime(), after.id, limit);
        return rows.map(toAlert);
      }),
    countSince: (userId, since) => settle(() => readNumber(count.get(userId, since.getTime()) ?? {}, 'n')),
    ruleStates: (userId) =>
      settle(() => {
        const at = position.get(userId);
        return {
          states: new Map(
            states.all(userId).map((r) => [
              readText(r, 'rule_key'),
              {
                active: readNumber(r, 'active') === 1,
                crossings: readNumber(r, 'crossings'),
                since: readNullable(r, 'since', readText),
              },
            ]),
          ),
          evaluatedThrough:
            at === undefined
              ? null
              : {
                  partition: readNumber(at, 'topic_partition'),
                  offset: readInt(at, 'topic_offset'),
                  occurredAt: readDate(at, 'occurred_at'),
                },
        };
      }),
    saveRuleStates: (byUser) =>
      settle(() => {
        inWriteTransaction(db, () => {
          for (const [userId, { states: changes, evaluatedThrough: through }] of byUser) {
            for (const [key, s] of changes)
              saveState.run(userId, key, s.active ? 1 : 0, s.crossings, s.since);
            if (through !== null) {
              savePosition.run(userId, through.partition, through.offset, through.occurredAt.getTime());
            }
          }
        });
      }),
  };
}

/** One row per user, replaced whole: the worker is its only writer, so last write wins. */
export function createEmbeddedCreditScoreStore(db: DatabaseSync): CreditScoreStore {
  const select = db.prepare(
    'SELECT score, band, model_version, computed_at FROM credit_scores WHERE user_id = ?',
  );
  const upsert = db.prepare(
    `INSERT OR REPLACE INTO credit_scores (user_id, score, band, model_version, computed_at)
     VALUES (?, ?, ?, ?, ?)`,
  );
  return {
    get: (userId) =>
      settle(() => {
        const row = select.get(userId);
        if (row === undefined) return null;
        return {
          score: readNumber(row, 'score'),
          band: readText(row, 'band'),
          modelVersion: readText(row, 'model_version'),
          computedAt: readDate(row, 'computed_at'),
        };
      }),
    put: (scores) =>
      settle(() => {
        inWriteTransaction(db, () => {
          for (const [userId, s] of scores) {
            upsert.run(userId, s.score, s.band, s.modelVersion, s.computedAt.getTime());
          }
        });
      }),
  };
}

const RULES: readonly string[] = ['large_transaction', 'velocity', 'sustained_outflow'];
const SEVERITIES: readonly string[] = ['low', 'medium', 'high'];
const isRule = (value: string): value is Alert['rule'] => RULES.includes(value);
const isSeverity = (value: string): value is Severity => SEVERITIES.includes(value);

function toAlert(row: Row): Alert {
  const rule = readText(row, 'rule');
  const severity = readText(row, 'severity');
  if (!isRule(rule)) throw new TypeError(`unknown alert rule ${rule}`);
  if (!isSeverity(severity)) throw new TypeError(`unknown alert severity ${severity}`);
  return {
    id: readText(row, 'id'),
    userId: readText(row, 'user_id'),
    rule,
    ruleKey: readText(row, 'rule_key'),
    severity,
    raisedAt: readDate(row, 'raised_at'),
    transactionId: readText(row, 'transaction_id'),
    // Written by insert() from a typed Alert; only this adapter writes the column.
    details: JSON.parse(readText(row, 'details')) as Alert['details'],
    rulesVersion: readText(row, 'rules_version'),
  };
}
