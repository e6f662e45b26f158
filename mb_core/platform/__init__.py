"""The platform around the builder: who may do what (roles), which flag value applies, what the
audit log may keep. Pure decisions; the store keeps the rows and the API asks these functions."""
