// Every SQL statement the stores run, by name, prepared once per connection
// (PrepareAll is the pool's on_connect). Parameters only: input is never
// spliced into SQL text.
#ifndef MCPREG_STORAGE_PG_STATEMENTS_H_
#define MCPREG_STORAGE_PG_STATEMENTS_H_

#include <pqxx/pqxx>

namespace mcpreg::storage::pg {

void PrepareAll(pqxx::connection& c);

}  // namespace mcpreg::storage::pg

#endif  // MCPREG_STORAGE_PG_STATEMENTS_H_
