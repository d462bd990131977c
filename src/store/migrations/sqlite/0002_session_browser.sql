-- The browser a database session was issued to (the hash of its CSRF token), so that only
-- that browser's session may link a new provider account. NULL for older sessions.
ALTER TABLE sessions ADD COLUMN browser_binding TEXT;
