/**
 * Two schemas real AI teams run, in miniature: Label Studio's (projects, tasks, annotations, with
 * JSON documents) and MLflow's tracking and registry (experiments, runs, params, metrics,
 * registered models, model versions). Each has an invariant across two tables that every writer
 * transaction keeps, so a backup that is not one consistent state shows up as a broken invariant
 * after restore:
 *
 *   Label Studio  projects.task_count = the number of the project's tasks,
 *                 tasks.total_annotations = the number of the task's annotations
 *   MLflow        registered_models.latest_version = the number of its model versions = their highest version
 */
export type Dialect = 'postgres' | 'mysql';

const json = (d: Dialect) => (d === 'postgres' ? 'JSONB' : 'JSON');
const serial = (d: Dialect) => (d === 'postgres' ? 'BIGSERIAL PRIMARY KEY' : 'BIGINT AUTO_INCREMENT PRIMARY KEY');

export function labelStudioSchema(d: Dialect): string[] {
  return [
    `CREATE TABLE projects (id ${serial(d)}, title VARCHAR(200) NOT NULL, label_config TEXT, task_count INT NOT NULL DEFAULT 0)`,
    `CREATE TABLE tasks (id ${serial(d)}, project_id BIGINT NOT NULL REFERENCES projects(id), data ${json(d)} NOT NULL, total_annotations INT NOT NULL DEFAULT 0)`,
    `CREATE TABLE annotations (id ${serial(d)}, task_id BIGINT NOT NULL REFERENCES tasks(id), result ${json(d)} NOT NULL, completed_by INT, lead_time DOUBLE PRECISION)`,
    `INSERT INTO projects (title, label_config) VALUES ('support-tickets', '<View><Text name="text" value="$text"/></View>'), ('intents', '<View/>'), ('ner', '<View/>')`,
  ];
}

export function mlflowSchema(d: Dialect): string[] {
  return [
    `CREATE TABLE experiments (experiment_id ${serial(d)}, name VARCHAR(256) NOT NULL UNIQUE, artifact_location VARCHAR(256))`,
    `CREATE TABLE runs (run_uuid VARCHAR(32) PRIMARY KEY, experiment_id BIGINT REFERENCES experiments(experiment_id), status VARCHAR(20), start_time BIGINT)`,
    `CREATE TABLE params (run_uuid VARCHAR(32) REFERENCES runs(run_uuid), ${d === 'postgres' ? 'key' : '`key`'} VARCHAR(250), value VARCHAR(500), PRIMARY KEY (run_uuid, ${d === 'postgres' ? 'key' : '`key`'}))`,
    `CREATE TABLE metrics (run_uuid VARCHAR(32) REFERENCES runs(run_uuid), ${d === 'postgres' ? 'key' : '`key`'} VARCHAR(250), value DOUBLE PRECISION, step BIGINT, PRIMARY KEY (run_uuid, ${d === 'postgres' ? 'key' : '`key`'}, step))`,
    `CREATE TABLE registered_models (name VARCHAR(256) PRIMARY KEY, latest_version INT NOT NULL DEFAULT 0)`,
    `CREATE TABLE model_versions (name VARCHAR(256) REFERENCES registered_models(name), version INT, run_id VARCHAR(32) REFERENCES runs(run_uuid), source VARCHAR(500), PRIMARY KEY (name, version))`,
    `INSERT INTO experiments (name, artifact_location) VALUES ('support-bot', 's3://mlflow-artifacts/1')`,
    `INSERT INTO registered_models (name) VALUES ('support-bot'), ('intent-classifier')`,
  ];
}

/** One Label Studio writer transaction: a task with an annotation, keeping both counters. Statements in order. */
export function labelStudioWrite(d: Dialect, i: number): string[] {
  const project = (i % 3) + 1;
  const data = JSON.stringify({ text: `ticket ${i}: the printer is on fire (${'x'.repeat(i % 50)})`, meta: { i } }).replace(/'/g, "''");
  const last = d === 'postgres' ? "currval('tasks_id_seq')" : 'LAST_INSERT_ID()';
  return [
    `INSERT INTO tasks (project_id, data, total_annotations) VALUES (${project}, '${data}', 1)`,
    `INSERT INTO annotations (task_id, result, completed_by, lead_time) VALUES (${last}, '[{"value": {"choices": ["urgent"]}, "from_name": "label"}]', ${i % 7}, ${(i % 100) / 10})`,
    `UPDATE projects SET task_count = task_count + 1 WHERE id = ${project}`,
  ];
}

/** One MLflow writer transaction: a run with params and metrics, registered as the next version of a model. */
export function mlflowWrite(d: Dialect, i: number): string[] {
  const run = `run${String(i).padStart(28, '0')}`;
  const model = i % 2 === 0 ? 'support-bot' : 'intent-classifier';
  const key = d === 'postgres' ? 'key' : '`key`';
  return [
    `INSERT INTO runs (run_uuid, experiment_id, status, start_time) VALUES ('${run}', 1, 'FINISHED', ${1700000000000 + i})`,
    `INSERT INTO params (run_uuid, ${key}, value) VALUES ('${run}', 'lr', '2e-5'), ('${run}', 'epochs', '${i % 5}')`,
    `INSERT INTO metrics (run_uuid, ${key}, value, step) VALUES ('${run}', 'eval_loss', ${1 + (i % 10) / 10}, 0), ('${run}', 'eval_loss', ${1 + (i % 10) / 20}, 1)`,
    `UPDATE registered_models SET latest_version = latest_version + 1 WHERE name = '${model}'`,
    `INSERT INTO model_versions (name, version, run_id, source) SELECT '${model}', latest_version, '${run}', 's3://mlflow-artifacts/1/${run}/artifacts/model' FROM registered_models WHERE name = '${model}'`,
  ];
}

/** Rows that break an invariant (empty when the state is consistent). */
export const INVARIANT_QUERIES = [
  'SELECT p.id FROM projects p WHERE p.task_count <> (SELECT COUNT(*) FROM tasks t WHERE t.project_id = p.id)',
  'SELECT t.id FROM tasks t WHERE t.total_annotations <> (SELECT COUNT(*) FROM annotations a WHERE a.task_id = t.id)',
  'SELECT m.name FROM registered_models m WHERE m.latest_version <> (SELECT COUNT(*) FROM model_versions v WHERE v.name = m.name) OR m.latest_version <> (SELECT COALESCE(MAX(version), 0) FROM model_versions v WHERE v.name = m.name)',
];
