"""The versions of a video memory's SQLite schema, oldest first: a database at version N gets
versions N+1.. applied on open, each in one transaction (``VideoMemory._migrate``)."""

SCHEMA = [
    # version 1
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE shots (idx INTEGER PRIMARY KEY, start REAL NOT NULL, end REAL NOT NULL);
    CREATE TABLE transcript (start REAL NOT NULL, end REAL NOT NULL, text TEXT NOT NULL);
    CREATE TABLE chunks (
        idx INTEGER PRIMARY KEY,
        start REAL NOT NULL,
        end REAL NOT NULL,
        first_shot INTEGER NOT NULL,
        last_shot INTEGER NOT NULL,
        frame_times TEXT NOT NULL,
        caption TEXT NOT NULL,
        transcript TEXT NOT NULL,
        screen_text TEXT NOT NULL,
        text TEXT NOT NULL,
        embedding BLOB
    );
    """,
    # version 2: full-text search over chunk texts (names, numbers and quotes that embeddings miss)
    """
    CREATE VIRTUAL TABLE chunks_fts USING fts5(
        text, content='chunks', content_rowid='idx', tokenize='porter unicode61'
    );
    CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
        INSERT INTO chunks_fts(rowid, text) VALUES (new.idx, new.text);
    END;
    CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN
        INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.idx, old.text);
    END;
    INSERT INTO chunks_fts(chunks_fts) VALUES ('rebuild');
    """,
    # version 3: cached summaries, keyed by the LLM that wrote them
    """
    CREATE TABLE summaries (llm TEXT PRIMARY KEY, summary TEXT NOT NULL, sections TEXT NOT NULL);
    """,
    # version 4: answers to benchmark questions, so an interrupted eval resumes
    """
    CREATE TABLE answers (key TEXT PRIMARY KEY, record TEXT NOT NULL);
    """,
    # version 5: small JPEGs of the frames each chunk's captioner saw (for reports)
    """
    CREATE TABLE thumbnails (chunk INTEGER NOT NULL, time REAL NOT NULL, jpeg BLOB NOT NULL);
    CREATE INDEX thumbnails_chunk ON thumbnails (chunk);
    """,
    # version 6: image–text vectors of frames (visual search), committed with their chunk
    """
    CREATE TABLE frame_vectors (
        id INTEGER PRIMARY KEY, chunk INTEGER NOT NULL, time REAL NOT NULL, embedding BLOB NOT NULL
    );
    CREATE INDEX frame_vectors_chunk ON frame_vectors (chunk);
    """,
    # version 7: full text in any script (words.for_index: CJK/Thai characters one token each);
    # rebuilt from the stored chunk texts, nothing re-captioned or re-transcribed
    """
    DROP TRIGGER IF EXISTS chunks_ai;
    DROP TRIGGER IF EXISTS chunks_ad;
    DROP TABLE IF EXISTS chunks_fts;
    CREATE VIRTUAL TABLE chunk_words USING fts5(text, tokenize='porter unicode61');
    CREATE TRIGGER chunk_words_ai AFTER INSERT ON chunks BEGIN
        INSERT INTO chunk_words(rowid, text) VALUES (new.idx, for_index(new.text));
    END;
    CREATE TRIGGER chunk_words_ad AFTER DELETE ON chunks BEGIN
        DELETE FROM chunk_words WHERE rowid = old.idx;
    END;
    CREATE TRIGGER chunk_words_au AFTER UPDATE OF text ON chunks BEGIN
        UPDATE chunk_words SET text = for_index(new.text) WHERE rowid = new.idx;
    END;
    INSERT INTO chunk_words(rowid, text) SELECT idx, for_index(text) FROM chunks;
    """,
    # version 8: chunks indexed without their caption (``index --captions lazy``), captioned later
    """
    CREATE TABLE uncaptioned (chunk INTEGER PRIMARY KEY);
    """,
]
