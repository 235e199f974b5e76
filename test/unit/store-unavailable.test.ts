import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MongoServerError } from 'mongodb';
import { meansStoreUnavailable } from '../../src/adapters/mongo/mongo-guard.ts';

/** A server answer as the driver builds it from the wire: `{ ok: 0, code, errmsg }`. */
const answer = (code: number, errmsg: string) => new MongoServerError({ ok: 0, code, errmsg });

describe('which store answers mean "retry later" (503), not a defect (500)', () => {
  it('MongoDB shutting down or stepping down', () => {
    assert.equal(meansStoreUnavailable(answer(11600, 'interrupted at shutdown')), true);
    assert.equal(meansStoreUnavailable(answer(91, 'The server is in quiesce mode and will shut down')), true);
    assert.equal(meansStoreUnavailable(answer(10107, 'not primary')), true);
  });

  it('FerretDB cancelling the commands in flight as it shuts down, as it words it', () => {
    // the endings matter; the second message is verbatim from a PATCH in the CI run at 32e7cd4
    const canceled =
      '[msg_find.go:130 handler.(*Handler).MsgFind] [query.go:62 sqlite.(*collection).Query] context canceled';
    const rolledBack =
      '[msg_update.go:133 handler.(*Handler).updateDocument] [update.go:114 common.UpdateDocument] ' +
      '[collection.go:191 sqlite.(*collection).UpdateAll] [db.go:167 fsql.(*DB).InTransaction] ' +
      'sql: transaction has already been committed or rolled back';
    assert.equal(meansStoreUnavailable(answer(1, canceled)), true);
    assert.equal(meansStoreUnavailable(answer(1, rolledBack)), true);
    assert.equal(
      meansStoreUnavailable(answer(1, '[db.go:98 fsql.(*DB).QueryContext] sql: database is closed')),
      true,
    );
    assert.equal(meansStoreUnavailable(answer(1, '[tx.go:40] sql: connection is already closed')), true);
  });

  it('leaves every other server answer a defect', () => {
    assert.equal(meansStoreUnavailable(answer(1, 'something else went wrong')), false);
    assert.equal(meansStoreUnavailable(answer(2, 'context canceled')), false, 'only InternalError');
    assert.equal(meansStoreUnavailable(answer(11000, 'E11000 duplicate key error')), false);
    assert.equal(meansStoreUnavailable(new TypeError('x is undefined')), false);
  });
});
