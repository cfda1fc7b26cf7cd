# Writes OUT: a C++ file holding every migrations/NNNN_name.sql, in order, so
# the plugin .so carries its schema and needs no files at run time.
file(GLOB sql_files RELATIVE ${DIR} ${DIR}/[0-9][0-9][0-9][0-9]_*.sql)
list(SORT sql_files)
set(body "")
foreach(f ${sql_files})
  string(REGEX MATCH "^([0-9]+)_(.*)\\.sql$" _ ${f})
  math(EXPR version "${CMAKE_MATCH_1}")
  file(READ ${DIR}/${f} sql)
  string(APPEND body "    {${version}, \"${CMAKE_MATCH_2}\", R\"mcpreg_sql(${sql})mcpreg_sql\"},\n")
endforeach()
file(WRITE ${OUT}.tmp
"// Generated from storage/pg/migrations/*.sql by embed_migrations.cmake.\n#include \"storage/pg/migrations.h\"\n\nnamespace mcpreg::storage::pg {\n\nconst std::vector<Migration>& AllMigrations() {\n  static const std::vector<Migration> kMigrations = {\n${body}  };\n  return kMigrations;\n}\n\n}  // namespace mcpreg::storage::pg\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
