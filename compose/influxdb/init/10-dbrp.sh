#!/bin/bash
# Runs once, on the first start of an empty InfluxDB 2.x volume, after the
# DOCKER_INFLUXDB_INIT_* setup. The entrypoint has configured the influx CLI
# with the admin token and exports DOCKER_INFLUXDB_INIT_BUCKET_ID.
# Maps the InfluxQL database/retention policy onto the bucket so that
# /query (InfluxQL: the services' query client, Grafana) works.
set -euo pipefail

db="${LVSEVENTS_INFLUXQL_DB:-$DOCKER_INFLUXDB_INIT_BUCKET}"
if influx v1 dbrp list --org "$DOCKER_INFLUXDB_INIT_ORG" --db "$db" --hide-headers 2>/dev/null | grep -q .; then
    echo "lvsevents: DBRP mapping for database $db already exists"
    exit 0
fi
influx v1 dbrp create \
    --org "$DOCKER_INFLUXDB_INIT_ORG" \
    --bucket-id "$DOCKER_INFLUXDB_INIT_BUCKET_ID" \
    --db "$db" \
    --rp autogen \
    --default
echo "lvsevents: mapped InfluxQL database $db (rp autogen) to bucket $DOCKER_INFLUXDB_INIT_BUCKET"
