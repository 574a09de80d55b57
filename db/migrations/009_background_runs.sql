-- When a job that one replica runs for all (the sources sync) last finished: replicas that start
-- or wake later skip their round instead of repeating the work.
CREATE TABLE IF NOT EXISTS background_runs (
    name         text PRIMARY KEY,
    finished_at  timestamptz NOT NULL
);
