/**
 * `@kadmium/core/dht-server`: what a libp2p node needs to serve Kadmium's
 * records in its DHT — the datastore wrapper that merges the heads it is
 * sent instead of replacing them. A separate entry point, so that apps
 * which only open databases never load libp2p's record codec.
 * @module \@kadmium/core/dht-server
 */
export { mergingDatastore, HeadMergingDatastore, type MergingDatastoreOptions } from './dht/merging-datastore.ts'
