#!/bin/sh
# Starts Ownat's broker (eclipse-mosquitto:2). On the first start, with an empty mosquitto-auth volume,
# it creates the dynamic security plugin's file holding only the platform's admin account; the platform
# then adds its roles, the ingest account and the devices over MQTT (`ownat broker-config --sync`).
# To start from the registry instead (a restore), write the file into the volume with
# `ownat broker-config --out` before the broker's first start.
set -eu
config_dir=/mosquitto/config/ownat
file="$config_dir/dynamic-security.json"
if [ ! -s "$file" ]; then
    : "${OWNAT_MQTT_ADMIN_PASSWORD:?set OWNAT_MQTT_ADMIN_PASSWORD in .env}"
    mosquitto_ctrl dynsec init "$file" ownat-admin "$OWNAT_MQTT_ADMIN_PASSWORD" >/dev/null
    echo "created $file with the admin account ownat-admin"
fi
# The plugin rewrites its file whenever it is administered, as the mosquitto user.
chown -R mosquitto:mosquitto "$config_dir"
exec /docker-entrypoint.sh "$@"
