#!/bin/sh
# Installed as /usr/bin/gradlab by the .deb: the app itself lives in /opt/gradlab.
exec /opt/gradlab/gradlab "$@"
