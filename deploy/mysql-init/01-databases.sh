#!/bin/bash
# Run by the mysql image on its first start (empty data volume): creates the
# erpbridge database and user, and the two databases of the Temporal server
# (auto-setup would create those too; creating them here keeps one place that
# lists every database of the stack).
set -euo pipefail

# Single quotes are doubled for the SQL string literal.
password=${ERPBRIDGE_DB_PASSWORD:?ERPBRIDGE_DB_PASSWORD is not set}
password=${password//\'/\'\'}

mysql --protocol=socket -uroot -p"${MYSQL_ROOT_PASSWORD}" <<SQL
CREATE DATABASE IF NOT EXISTS erpbridge CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE DATABASE IF NOT EXISTS temporal CHARACTER SET utf8mb4;
CREATE DATABASE IF NOT EXISTS temporal_visibility CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS 'erpbridge'@'%' IDENTIFIED BY '${password}';
GRANT ALL PRIVILEGES ON erpbridge.* TO 'erpbridge'@'%';
FLUSH PRIVILEGES;
SQL
