"""The accounts' writes: snapshots and incidents after each accounts sync, and the alert e-mails."""
