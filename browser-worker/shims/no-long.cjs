// Stands in for the `long` package in the browser bundle (see build.mjs). protobufjs picks Long
// up when it can require it, but swarmgrid's codec decodes 64-bit ids as plain numbers
// (--force-number, and proto/codec.ts unsets util.Long), so the library would be dead weight.
'use strict';
module.exports = null;
