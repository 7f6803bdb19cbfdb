// Run by the compose service mongo-init (mongosh, as root): initiates the replica set of one,
// waits for this node to be primary, and gives auth_svc and metadata_svc a user each that can
// use only its own database. Idempotent: safe at every `docker compose up`.
const prefix = process.env.DB_PREFIX;

try {
  rs.status();
} catch (error) {
  if (error.codeName !== "NotYetInitialized") throw error;
  rs.initiate({ _id: "rs0", members: [{ _id: 0, host: "mongo:27017" }] });
}

const deadline = Date.now() + 60000;
while (!db.hello().isWritablePrimary) {
  if (Date.now() > deadline) throw new Error("replica set rs0 has no primary after 60 s");
  sleep(500);
}

for (const [user, service, passwordVariable] of [
  ["auth_svc", "auth", "MONGO_AUTH_SVC_PASSWORD"],
  ["metadata_svc", "metadata", "MONGO_METADATA_SVC_PASSWORD"],
]) {
  const database = db.getSiblingDB(`${prefix}_${service}`);
  const spec = { pwd: process.env[passwordVariable], roles: [{ role: "dbOwner", db: database.getName() }] };
  if (database.getUser(user) === null) {
    database.createUser({ user, ...spec });
  } else {
    database.updateUser(user, spec);
  }
}
print("replica set rs0 ready; users auth_svc and metadata_svc up to date");
