"""What Consult keeps about a member, gathered from every feature, for them to
read and download. Above the features it reads, so accounts need not know them."""
