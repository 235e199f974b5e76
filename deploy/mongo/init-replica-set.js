/* global rs, db, sleep, print -- mongosh provides them */
// Makes the one-member replica set `rs0` the service's MONGODB_URL names (once: a rerun finds it
// made), then waits until the member is a writable primary, so the service starts against it.
try {
  rs.status();
} catch (error) {
  if (error.codeName !== 'NotYetInitialized') throw error;
  rs.initiate({ _id: 'rs0', members: [{ _id: 0, host: 'mongo:27017' }] });
}
const deadline = Date.now() + 60_000;
while (!db.hello().isWritablePrimary) {
  if (Date.now() > deadline) throw new Error('no primary within 60 s');
  sleep(500);
}
print('replica set rs0 has a primary');
