-- Open-data readers (Open311) list cases by when they were reported, newest first.
CREATE INDEX cases_created ON cases (created_at, id);
