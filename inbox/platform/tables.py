"""Tables that migrations make in raw SQL, with no model to ask for their names.

The messages table itself is ``CoworkerMessage._meta.db_table``.
"""

FTS_TABLE = "inbox_message_fts"  # SQLite: the FTS5 index over the messages (migration 0002)
VOCAB_TABLE = "inbox_message_fts_vocab"  # SQLite: its words, fts5vocab (migration 0007)
TALLY_TABLE = "inbox_message_tally"  # the live messages' counts, kept by triggers (migration 0004)
