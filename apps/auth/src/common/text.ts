/**
 * Text without control characters (Unicode Cc: U+0000–U+001F, U+007F–U+009F). A NUL among them
 * is refused by PostgreSQL in text and JSON values (SQLSTATE 22021, 22P05): input is checked
 * with this at the edge, so such a request is a 400 rather than a 500.
 */
export const NO_CONTROL_CHARACTERS = /^\P{Cc}*$/u;
